"""The one place tokens are revoked (RFC 7009 §2, RFC 9700 §4.14.2)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from . import clock, primary, token_cache
from .models import AccessToken, AuthorizationCode, DeviceAuthorization, RefreshToken
from .models.tokens import Token
from .signals import token_revoked

# Enough to identify a revoked token for the cache and the token_revoked signal.
REVOKED_FIELDS = ("pk", "token_hash", "client", "user", "family_id")


def revoke(model: type[Token], rows: list[Token], *, reason: str) -> int:
    """Revoke these rows of one model unless already revoked; return how many were.

    The conditional UPDATE is also how a rotation claims its refresh token:
    of concurrent callers only one sees a count of 1.
    """
    if not rows:
        return 0
    count = model.objects.filter(pk__in=[row.pk for row in rows], revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    if count:
        if model is AccessToken:
            token_cache.invalidate(row.token_hash for row in rows)
        token_revoked.send(sender=model, tokens=rows, reason=reason)
    return count


# Refresh tokens first, always: a rotation locks its refresh token before the
# access token, and two transactions taking the same rows in opposite orders
# would deadlock on PostgreSQL.
LOCK_ORDER = (RefreshToken, AccessToken)


def revoke_tokens(tokens: Iterable[Token], *, reason: str) -> int:
    """Revoke these access and/or refresh tokens; return how many were not revoked already."""
    tokens = list(tokens)
    return sum(
        revoke(model, [token for token in tokens if isinstance(token, model)], reason=reason)
        for model in LOCK_ORDER
    )


def revoke_family(family_id: uuid.UUID, *, reason: str) -> int:
    """Revoke every token descended from one authorization.

    RFC 6749 §4.1.2: "If an authorization code is used more than once, the
    authorization server MUST deny the request and SHOULD revoke (when
    possible) all tokens previously issued based on that authorization code."
    RFC 7009 §2.1 asks the same when a refresh token is revoked.
    """
    return revoke_families([family_id], reason=reason)


def revoke_families(family_ids: Iterable[uuid.UUID], *, reason: str) -> int:
    """Revoke every token descended from any of these authorizations
    (``revoke_family`` for several at once)."""
    family_ids = list(family_ids)
    tokens: list[Token] = []
    for model in LOCK_ORDER:
        # From the primary: a token issued a moment ago may not be on a replica yet.
        live = model.objects.using(primary.alias(model)).filter(
            family_id__in=family_ids, revoked_at__isnull=True
        )
        tokens += live.only(*REVOKED_FIELDS)
    return revoke_tokens(tokens, reason=reason)


def revoke_token(token: Token) -> None:
    """Revoke an access token, or a refresh token with its whole family.

    RFC 7009 §2.1: "If the particular token is a refresh token and the
    authorization server supports the revocation of access tokens, then the
    authorization server SHOULD also invalidate all access tokens based on the
    same authorization grant".
    """
    if isinstance(token, AccessToken):
        revoke_tokens([token], reason="revoked")
        return
    with primary.atomic(RefreshToken):
        # Lock the refresh token first: a rotation racing this request either
        # committed its new tokens already (so the family query below sees and
        # revokes them) or waits, then finds the token revoked and is refused.
        # It also takes row locks in a rotation's order (refresh token, then
        # access tokens), so the two cannot deadlock.
        list(RefreshToken.objects.select_for_update().filter(pk=token.pk).values_list("pk"))
        revoke_family(token.family_id, reason="revoked")


@primary.atomic(RefreshToken)
def end_grants(*, reason: str, **holders: object) -> int:
    """End everything ``holders`` (model filters such as ``client=``, ``user=``
    or ``client__in=``) could still use: unredeemed codes, approved device
    requests not yet redeemed, and every live access and refresh token.
    Returns how many tokens were revoked.

    Used when a user withdraws consent and when an admin revokes a client's
    tokens (RFC 7009 §2.1, RFC 9700 §4.14.2). The order matters on
    PostgreSQL: each UPDATE waits for a code exchange or device poll already
    holding the row, and locking the refresh tokens waits for a rotation in
    progress, so the token query after them also sees the tokens those just
    issued; one starting later finds its code, request or token ended.
    """
    now = clock.now()
    AuthorizationCode.objects.filter(**holders).end(reason)
    # An approved device still polling is told access_denied (RFC 8628 §3.5).
    DeviceAuthorization.objects.filter(
        **holders, status=DeviceAuthorization.Status.APPROVED, used_at__isnull=True
    ).update(status=DeviceAuthorization.Status.DENIED, decided_at=now)
    live = {**holders, "revoked_at__isnull": True, "expires_at__gt": now}
    list(RefreshToken.objects.select_for_update().filter(**live).values_list("pk"))
    rows = (model.objects.using(primary.alias(model)).filter(**live) for model in LOCK_ORDER)
    tokens = [token for queryset in rows for token in queryset.only(*REVOKED_FIELDS)]
    return revoke_tokens(tokens, reason=reason)
