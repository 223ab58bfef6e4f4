"""Signing keys for ID tokens and logout tokens (OpenID Connect Core 1.0 §10.1).

A key's state follows from its times, so rotation needs no restart and no
scheduled job: it is *pending* (published in JWKS, not yet signing) until
``activates_at``, *active* (signing) until ``retired_at``, then *retired*
(published, not signing) until ``expires_at``, after which it drops out of
JWKS. The private part is stored only encrypted (``crypto.encrypt``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock
from .base import now


class SigningKey(models.Model):
    class Algorithm(models.TextChoices):
        # RFC 7518 §3.1 and RFC 8037 §3.1 names. OIDC Core §15.1 makes RS256 mandatory.
        RS256 = "RS256", "RS256 (RSA)"
        ES256 = "ES256", "ES256 (ECDSA P-256)"
        EDDSA = "EdDSA", "EdDSA (Ed25519)"

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    kid = models.CharField(_("key ID"), max_length=64, unique=True, editable=False)
    algorithm = models.CharField(_("algorithm"), max_length=10, choices=Algorithm.choices, editable=False)
    # The private key as PKCS#8 PEM, encrypted (crypto.encrypt); never shown.
    private_key = models.TextField(_("private key (encrypted)"), editable=False)
    # The public members only (RFC 7517 §4), as published in JWKS.
    public_jwk = models.JSONField(_("public key"), editable=False)
    created_at = models.DateTimeField(_("created"), default=now, editable=False)
    activates_at = models.DateTimeField(_("signs from"), db_index=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    # When the last token it signed has expired: it leaves JWKS then.
    expires_at = models.DateTimeField(_("published until"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-activates_at"]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid}"

    def state_at(self, moment: datetime) -> str:
        if self.retired_at is not None and self.retired_at <= moment:
            return self.State.RETIRED
        if self.activates_at <= moment:
            return self.State.ACTIVE
        return self.State.PENDING

    @property
    def state(self) -> str:
        return self.state_at(clock.now())
