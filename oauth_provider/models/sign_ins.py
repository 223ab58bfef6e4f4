"""What an OpenID Connect authentication request established (Core 1.0 §3.1.2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import now


class SignIn(models.Model):
    """A user signing in to a client: one row per authorization with ``openid``.

    It shares ``family_id`` with the code and every token descended from the
    authorization, so the token endpoint finds ``nonce`` and ``auth_time``
    for the ID token (and again on refresh, Core §12.2), UserInfo finds the
    ``claims`` request (§5.5), and logout finds, by ``sid``, the clients a
    browser session signed in to (Back-Channel Logout 1.0 §2.1).
    """

    family_id = models.UUIDField(_("grant family"), unique=True, editable=False)
    client = models.ForeignKey("oauth_provider.Client", on_delete=models.CASCADE, verbose_name=_("client"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user"))
    # The OP session (the user's browser session here) it happened in.
    sid = models.CharField(_("session ID"), max_length=64, db_index=True, editable=False)
    # The ``sub`` the client was given (Core §8), kept so that every later
    # ID token, UserInfo answer and logout token of this sign-in carries the
    # same one (§12.2), and without reading the user's subjects again.
    subject = models.CharField(_("subject"), max_length=64, editable=False)
    auth_time = models.DateTimeField(_("authenticated"), editable=False)
    nonce = models.TextField(_("nonce"), blank=True, editable=False)
    # Core §5.5: {"userinfo": {...}, "id_token": {...}} as requested, or None.
    claims = models.JSONField(_("requested claims"), null=True, blank=True, editable=False)
    # Core §2: what is known of how the user authenticated.
    acr = models.CharField(_("authentication context"), max_length=255, blank=True, editable=False)
    amr = models.JSONField(_("authentication methods"), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("signed in"), default=now, editable=False)
    # Set when the user signed out of the session, or withdrew consent.
    ended_at = models.DateTimeField(_("signed out"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")

    def __str__(self) -> str:
        return f"{self.user} → {self.client}"
