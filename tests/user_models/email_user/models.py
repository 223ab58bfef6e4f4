"""An ``AbstractBaseUser`` signed in by email, whose primary key is neither
``id`` nor an integer, and whose field converts database values on the way
out (``from_db_value``): the ORM converts a foreign key to it the same way."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models


@dataclass(frozen=True)
class AccountNumber:
    """A value object, so that a value that skipped conversion compares unequal."""

    value: str

    def __str__(self) -> str:
        return self.value


def new_account_number() -> AccountNumber:
    return AccountNumber(f"acct-{secrets.token_hex(8)}")


class AccountNumberField(models.CharField):
    def from_db_value(self, value: Any, expression: Any, connection: Any) -> AccountNumber | None:
        return None if value is None else AccountNumber(value)

    def to_python(self, value: Any) -> AccountNumber | None:
        if value is None or isinstance(value, AccountNumber):
            return value
        return AccountNumber(str(value))

    def get_prep_value(self, value: Any) -> str | None:
        return None if value is None else str(value)


class EmailUserManager(BaseUserManager):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> EmailUser:
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user


class EmailUser(AbstractBaseUser, PermissionsMixin):
    account_number = AccountNumberField(primary_key=True, max_length=40, default=new_account_number)
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    objects = EmailUserManager()
