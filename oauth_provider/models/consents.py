from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import now


class Consent(models.Model):
    """The scopes a user has granted a client, and the resources (RFC 8707)
    the consent screen named for them, remembered across requests."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user"))
    client = models.ForeignKey("oauth_provider.Client", on_delete=models.CASCADE, verbose_name=_("client"))
    scope = models.TextField(_("scope"))
    # The audiences the user saw named (space-separated RESOURCES identifiers,
    # like ``scope``): a scope granted for one API is not granted for another.
    resources = models.TextField(_("resources"), blank=True)
    created_at = models.DateTimeField(_("granted"), default=now)
    updated_at = models.DateTimeField(_("updated"), default=now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="oauth_provider_consent_user_client"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.client}"

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def audience(self) -> list[str]:
        return self.resources.split()

    def covers(self, scopes: list[str], resources: list[str]) -> bool:
        """Whether a request for ``scopes`` with audience ``resources`` asks nothing new."""
        return set(scopes) <= set(self.scopes) and set(resources) <= set(self.audience)
