"""Initial access tokens: what an admin hands out so that a developer's
software may register a client (RFC 7591 §3, ``REGISTRATION_POLICY``
``"initial_access_token"``)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .. import clock, primary
from ..crypto import INITIAL_ACCESS_TOKEN_PREFIX, generate_token, hash_secret
from .base import get_or_none


class InitialAccessToken(models.Model):
    """RFC 7591 §3: "an OAuth 2.0 access token optionally issued by an
    authorization server to a developer or client and used to authorize
    calls to the client registration endpoint". Stored only as a hash; it
    may expire and may allow a limited number of registrations."""

    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    description = models.CharField(
        _("description"), max_length=255, help_text=_("Who it is for, so you can tell tokens apart.")
    )
    expires_at = models.DateTimeField(
        _("expires"), null=True, blank=True, help_text=_("Empty: it never expires.")
    )
    max_uses = models.PositiveIntegerField(
        _("registrations allowed"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    use_count = models.PositiveIntegerField(_("registrations made"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("initial access token")
        verbose_name_plural = _("initial access tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.description

    def set_token(self) -> str:
        """Give it its value; return it (shown once: only its hash is kept)."""
        value = generate_token(INITIAL_ACCESS_TOKEN_PREFIX)
        self.token_hash = hash_secret(value)
        return value

    @staticmethod
    def usable(now: datetime) -> Q:
        """Unexpired and with registrations left."""
        return (Q(expires_at__isnull=True) | Q(expires_at__gt=now)) & (
            Q(max_uses__isnull=True) | Q(use_count__lt=F("max_uses"))
        )

    @classmethod
    def find_usable(cls, value: str) -> InitialAccessToken | None:
        """The usable token with this raw value, or None; read from the
        primary, as one made a moment ago is handed out at once."""
        rows = cls.objects.using(primary.alias(cls))
        return get_or_none(rows.filter(cls.usable(clock.now()), token_hash=hash_secret(value)))

    def use(self) -> bool:
        """Count one registration, atomically (a conditional UPDATE): False
        when it was used up or expired meanwhile, so concurrent registrations
        never exceed ``max_uses``."""
        used = InitialAccessToken.objects.filter(InitialAccessToken.usable(clock.now()), pk=self.pk).update(
            use_count=F("use_count") + 1
        )
        return used == 1
