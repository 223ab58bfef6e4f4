"""Multi-table inheritance, two levels deep and from two parents: each
``Member`` row extends a ``Customer`` row (which extends a ``Person`` row) and
a ``Badge`` row, so a member's columns live in four tables (the password in
``Person``'s). ``auth.User`` itself cannot be the parent: once AUTH_USER_MODEL
names another model it is swapped out, and a relation to it is check error
fields.E301."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class Person(AbstractUser):
    pass


class Customer(Person):
    plan = models.CharField(max_length=20, default="free")


class Badge(models.Model):
    # Not "id": the two parents' primary keys would clash in the child.
    badge_id = models.BigAutoField(primary_key=True)
    label = models.CharField(max_length=20, default="member")

    def __str__(self) -> str:
        return self.label


class Member(Customer, Badge):
    nickname = models.CharField(max_length=50, blank=True)

    def __str__(self) -> str:
        return self.get_username()
