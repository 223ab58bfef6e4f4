"""A swapped ``AbstractUser`` subclass with a table name of its own."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class Account(AbstractUser):
    nickname = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = '"custom_accounts"'  # already quoted, as a schema-qualified name would be
