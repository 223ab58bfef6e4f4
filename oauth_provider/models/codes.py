from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock
from ..crypto import AUTHORIZATION_CODE_PREFIX
from .base import Credential


class EndReason(models.TextChoices):
    """Why a code can no longer be redeemed.

    Only a redeemed code coming back is a replay (RFC 6749 §4.1.2: revoke
    its tokens); a code ended any other way is simply invalid.
    """

    REDEEMED = "redeemed", _("redeemed")
    # The same words as token_revoked's reasons for the tokens ended with it.
    REVOKED = "revoked", _("revoked by an admin")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("consent withdrawn")
    PASSWORD_CHANGED = "password_changed", _("password changed")
    # The browser session it was authorized in ended (backchannel_logout).
    LOGGED_OUT = "logged_out", _("signed out")


class AuthorizationCodeQuerySet(models.QuerySet):
    def end(self, reason: str) -> int:
        """End the codes that have not ended, in one conditional UPDATE;
        return how many. Of concurrent callers for one code, one gets 1."""
        return self.filter(used_at__isnull=True).update(used_at=clock.now(), end_reason=reason)


class AuthorizationCode(Credential):
    """A short-lived, single-use authorization code (RFC 6749 §4.1.2)."""

    prefix = AUTHORIZATION_CODE_PREFIX
    EndReason = EndReason

    objects = AuthorizationCodeQuerySet.as_manager()

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user"))
    redirect_uri = models.TextField(_("redirect URI"))
    # §4.1.3: redirect_uri is required at the token endpoint only "if the
    # redirect_uri parameter was included in the authorization request".
    redirect_uri_provided = models.BooleanField(default=True)
    code_challenge = models.CharField(_("code challenge"), max_length=128, blank=True)
    code_challenge_method = models.CharField(_("code challenge method"), max_length=10, blank=True)
    # When the code stopped being redeemable, and why; one conditional UPDATE
    # sets both (``AuthorizationCodeQuerySet.end``).
    used_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        verbose_name = _("authorization code")
        verbose_name_plural = _("authorization codes")
