"""Refresh token grant with rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .. import clock
from ..errors import InvalidGrant
from ..issuance import TokenResponse, issue_tokens
from ..models import AccessToken, RefreshToken
from ..payload import TokenRequest
from ..scopes import narrow_scope
from ..settings import REFRESH_TOKEN
from .base import Grant

REPLAYED = _("The refresh token was already used or revoked.")


class RefreshTokenGrant(Grant):
    grant_type = REFRESH_TOKEN
    parameters = frozenset({"refresh_token", "scope"})

    def handle(self, request: TokenRequest) -> TokenResponse:
        token = self.credential(RefreshToken, request, "refresh_token")
        if token.revoked_at is not None:
            self.replayed(token, REPLAYED)
        if token.is_expired():
            raise InvalidGrant(_("The refresh token has expired."))
        if token.user is not None and not token.user.is_active:
            raise InvalidGrant
        scopes = narrow_scope(request.params.get("scope"), token.scopes)
        # Rotation is decided by the database: of concurrent requests with one
        # refresh token only one UPDATE finds it unrevoked.
        with transaction.atomic():
            now = clock.now()
            rotated = RefreshToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
            if rotated:
                # The access token issued with the old refresh token stops working too.
                AccessToken.objects.filter(pk=token.access_token_id, revoked_at__isnull=True).update(
                    revoked_at=now
                )
                return issue_tokens(
                    client=request.client,
                    user=token.user,
                    scopes=scopes,
                    # §6: the new refresh token's scope "MUST be identical" to the old one's.
                    refresh_scopes=token.scopes,
                    family_id=token.family_id,
                )
        self.replayed(token, REPLAYED)
