"""Refresh token grant with rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2)."""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from django.utils.translation import gettext_lazy as _

from .. import clock, primary
from ..errors import InvalidGrant
from ..issuance import TokenResponse, issue_tokens
from ..models import RefreshToken
from ..payload import TokenRequest
from ..resources import narrow_resources
from ..revocation import RevocationReason, revoke_tokens
from ..scopes import narrow_scope
from ..settings import REFRESH_TOKEN, oauth_settings
from ..signals import refresh_token_reused
from .base import Grant

REPLAYED = _("The refresh token was already used or revoked.")
ENDED = _("The refresh token is no longer valid.")


class RefreshTokenGrant(Grant):
    grant_type = REFRESH_TOKEN
    reuse_signal = refresh_token_reused
    parameters = frozenset({"refresh_token", "scope"})

    def handle(self, request: TokenRequest) -> TokenResponse:
        token = self.credential(RefreshToken, request, "refresh_token", related=("access_token",))
        if token.revoked_at is not None:
            return self.retry(request, token)
        if token.is_expired():
            raise InvalidGrant(_("The refresh token has expired."))
        if token.user is not None and not token.user.is_active:
            raise InvalidGrant
        scopes = narrow_scope(request.params.get("scope"), token.scopes)
        resources = narrow_resources(request.resources, token.audience, scopes)
        # Rotation is decided by the database: of concurrent requests with one
        # refresh token only one UPDATE finds it unrevoked.
        with primary.atomic(RefreshToken):
            if revoke_tokens([token], reason=RevocationReason.ROTATED):
                return self.rotate(request, token, scopes, resources)
        # Revoked in the meantime: by a concurrent rotation, or otherwise.
        self.ended(token)

    def rotate(
        self, request: TokenRequest, token: RefreshToken, scopes: list[str], resources: list[str]
    ) -> TokenResponse:
        """Issue the successor of ``token``, which the caller has just revoked."""
        # The access token issued with the old refresh token stops working too.
        revoke_tokens([token.access_token] if token.access_token else [], reason=RevocationReason.ROTATED)
        response = issue_tokens(
            client=request.client,
            user=token.user,
            scopes=scopes,
            resources=resources,
            grant_type=self.grant_type,
            # §6: the new refresh token's scope "MUST be identical" to the old
            # one's; so is its audience (RFC 8707 §2.2 narrows the access token only).
            refresh_scopes=token.scopes,
            refresh_resources=token.audience,
            family_id=token.family_id,
            previous=token,
            issuer=self.issuer(request),
        )
        # OpenID Connect Core §12.2: a new ID token of the same sign-in
        # (same sub, auth_time and sid) when the new scope includes openid.
        return self.with_id_token(request, response, token.family_id, refreshed=True)

    def retry(self, request: TokenRequest, token: RefreshToken) -> TokenResponse:
        """A revoked refresh token came back: reuse, unless it is the one retry
        ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS`` allows.

        The retry is for a client that lost the response to a rotation: it is
        allowed once, within the grace period, and only while the successor
        that response carried is still unused; the successor is revoked.
        Anything else is treated as theft (RFC 9700 §4.14.2).
        """
        grace = oauth_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS
        if grace and token.retried_at is None and token.revoked_at > clock.now() - timedelta(seconds=grace):
            scopes = narrow_scope(request.params.get("scope"), token.scopes)
            resources = narrow_resources(request.resources, token.audience, scopes)
            unused = (
                token.successors.using(primary.alias(RefreshToken))
                .filter(revoked_at__isnull=True)
                .select_related("access_token")
            )
            with primary.atomic(RefreshToken):
                successor = unused.first()
                # Once only; the successor, revoked by this retry, gets no retry of its own.
                retried = [token.pk, successor.pk] if successor else [token.pk]
                claimed = RefreshToken.objects.filter(pk__in=retried, retried_at__isnull=True).update(
                    retried_at=clock.now()
                )
                if (
                    successor is not None
                    and claimed
                    and revoke_tokens([successor], reason=RevocationReason.ROTATED)
                ):
                    return self.rotate(request, successor, scopes, resources)
        self.ended(token)

    def ended(self, token: RefreshToken) -> NoReturn:
        """Refuse a revoked refresh token. Only a rotated one (it has a
        successor) coming back is a replay, which revokes its family and is
        announced (RFC 9700 §4.14.2); one revoked any other way (by its
        client, RFC 7009; by an admin; by its user's withdrawal or password
        change) is simply no longer valid, as its client will find out."""
        if token.successors.using(primary.alias(RefreshToken)).exists():
            self.replayed(token, REPLAYED)
        raise InvalidGrant(ENDED)
