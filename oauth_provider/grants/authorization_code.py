"""Authorization code grant: the token request (RFC 6749 §4.1.3, RFC 7636 §4.5)."""

from __future__ import annotations

from typing import NoReturn

from django.utils.translation import gettext_lazy as _

from .. import primary
from ..errors import InvalidGrant
from ..issuance import TokenResponse, issue_tokens
from ..models import AuthorizationCode
from ..payload import TokenRequest
from ..pkce import verify_code_verifier
from ..resources import narrow_resources
from ..settings import AUTHORIZATION_CODE
from ..signals import authorization_code_reused
from .base import Grant

REPLAYED = _("The authorization code was already used.")
ENDED = _("The authorization code is no longer valid.")


class AuthorizationCodeGrant(Grant):
    grant_type = AUTHORIZATION_CODE
    reuse_signal = authorization_code_reused
    parameters = frozenset({"code", "redirect_uri", "code_verifier"})

    def handle(self, request: TokenRequest) -> TokenResponse:
        code = self.credential(AuthorizationCode, request, "code")
        if code.used_at is not None:
            self.ended(code, code.end_reason)
        if code.is_expired():
            raise InvalidGrant(_("The authorization code has expired."))
        # §4.1.3: redirect_uri must be "identical" to the one in the authorization request.
        redirect_uri = request.params.get("redirect_uri")
        if redirect_uri != code.redirect_uri and (redirect_uri is not None or code.redirect_uri_provided):
            raise InvalidGrant(_("The redirect_uri does not match the authorization request."))
        verify_code_verifier(
            request.params.get("code_verifier"), code.code_challenge, code.code_challenge_method
        )
        if not code.user.is_active:
            raise InvalidGrant
        # RFC 8707 §2.2: the token may be for fewer of the code's resources.
        resources = narrow_resources(request.resources, code.audience, code.scopes)
        # Single use, decided by the database: of concurrent redemptions only
        # one UPDATE finds used_at still NULL (RFC 9700 §4.5).
        with primary.atomic(AuthorizationCode):
            codes = AuthorizationCode.objects.using(primary.alias(AuthorizationCode)).filter(pk=code.pk)
            if codes.end(AuthorizationCode.EndReason.REDEEMED):
                response = issue_tokens(
                    client=request.client,
                    user=code.user,
                    scopes=code.scopes,
                    resources=resources,
                    # The refresh token keeps the whole grant (RFC 8707 §2.2).
                    refresh_resources=code.audience or None,
                    grant_type=self.grant_type,
                    family_id=code.family_id,
                    issuer=self.issuer(request),
                )
                # OpenID Connect Core §3.1.3.3: with openid, an ID token too.
                return self.with_id_token(request, response, code.family_id)
        # Ended in the meantime: by a concurrent redemption, or by withdrawal.
        self.ended(code, codes.values_list("end_reason", flat=True).get())

    def ended(self, code: AuthorizationCode, reason: str) -> NoReturn:
        """Refuse a code that can no longer be redeemed; only a redeemed
        one coming back is a replay that revokes its tokens (§4.1.2)."""
        if reason == AuthorizationCode.EndReason.REDEEMED:
            self.replayed(code, REPLAYED)
        raise InvalidGrant(ENDED)
