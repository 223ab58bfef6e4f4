"""What every stored credential (code, access token, refresh token) shares."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock
from ..crypto import generate_token, hash_secret

C = TypeVar("C", bound="Credential")
M = TypeVar("M", bound=models.Model)


def now() -> datetime:
    """Model default that follows ``clock.now`` (patched by tests)."""
    return clock.now()


def get_or_none(queryset: models.QuerySet[M]) -> M | None:
    """The one row of a lookup by a unique key, or None.

    Cheaper than ``first()``, which adds an ORDER BY that a unique lookup
    does not need; these run on every protocol request.
    """
    try:
        return queryset.get()
    except queryset.model.DoesNotExist:
        return None


class Credential(models.Model):
    """A bearer value stored only as its SHA-256 hash.

    ``family_id`` links every code and token descended from one authorization,
    so a replayed code or refresh token can revoke them all (RFC 9700 §4.14.2).
    """

    prefix: ClassVar[str]

    token_hash = models.CharField(_("hash"), max_length=64, unique=True, editable=False)
    client = models.ForeignKey("oauth_provider.Client", on_delete=models.CASCADE, verbose_name=_("client"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("user"),
    )
    scope = models.TextField(_("scope"), blank=True)
    # The audience (RFC 8707): space-separated RESOURCES identifiers, like
    # ``scope``. Empty: no audience, accepted only where no resource is enforced.
    resources = models.TextField(_("resources"), blank=True)
    family_id = models.UUIDField(_("grant family"), default=uuid.uuid4, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=now, editable=False)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # Never the value: only which credential this row is.
        return f"{self._meta.verbose_name} #{self.pk} ({self.client_id})"

    @classmethod
    def issue(cls: type[C], *, value_of: Callable[[C], str] | None = None, **fields: Any) -> tuple[C, str]:
        """Create a row for a new value; return it with the raw value.

        The value is random, or what ``value_of`` makes of the row before it
        is saved (a JWT access token, RFC 9068, carries the row's claims and
        is stored by its hash like any other). The raw value exists only in
        the return value: the caller hands it to the client once and it is
        never stored.
        """
        credential = cls(**fields)
        value = generate_token(cls.prefix) if value_of is None else value_of(credential)
        credential.token_hash = hash_secret(value)
        # As objects.create does: an INSERT, never an UPDATE of another row.
        credential.save(force_insert=True)
        return credential, value

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def audience(self) -> list[str]:
        return self.resources.split()

    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()
