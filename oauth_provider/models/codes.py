from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..crypto import AUTHORIZATION_CODE_PREFIX
from .base import Credential


class AuthorizationCode(Credential):
    """A short-lived, single-use authorization code (RFC 6749 §4.1.2)."""

    prefix = AUTHORIZATION_CODE_PREFIX

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user"))
    redirect_uri = models.TextField(_("redirect URI"))
    # §4.1.3: redirect_uri is required at the token endpoint only "if the
    # redirect_uri parameter was included in the authorization request".
    redirect_uri_provided = models.BooleanField(default=True)
    code_challenge = models.CharField(_("code challenge"), max_length=128, blank=True)
    code_challenge_method = models.CharField(_("code challenge method"), max_length=10, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("authorization code")
        verbose_name_plural = _("authorization codes")
