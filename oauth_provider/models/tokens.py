from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..crypto import ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX
from .base import Credential


class Token(Credential):
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        abstract = True

    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired()


class AccessToken(Token):
    """A bearer access token (RFC 6749 §1.4, RFC 6750)."""

    prefix = ACCESS_TOKEN_PREFIX

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")


class RefreshToken(Token):
    """A refresh token (RFC 6749 §1.5); rotated on every use (RFC 9700 §4.14.2)."""

    prefix = REFRESH_TOKEN_PREFIX

    access_token = models.OneToOneField(
        AccessToken,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="refresh_token",
        verbose_name=_("access token"),
    )
    # The refresh token this one replaced by rotation. With a grace period it
    # lets one retry of a lost rotation find and revoke the unused successor.
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="successors",
        editable=False,
        verbose_name=_("previous refresh token"),
    )
    # When a rotated token was presented again within the grace period (once only).
    retried_at = models.DateTimeField(_("retried"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")
