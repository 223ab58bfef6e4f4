"""Multi-table inheritance: each ``Member`` row extends a ``Person`` row, so
most of a member's columns (the password among them) live in the parent's
table. (``auth.User`` itself cannot be the parent: once AUTH_USER_MODEL names
another model it is swapped out, and a relation to it is check error fields.E301.)"""

from django.contrib.auth.models import AbstractUser
from django.db import models


class Person(AbstractUser):
    pass


class Member(Person):
    nickname = models.CharField(max_length=50, blank=True)
