"""The one place tokens are revoked (RFC 7009 §2, RFC 9700 §4.14.2), in the
database and, with ``REVOCATION_STREAM``, in every process.

- ``revoke_tokens``: these access and/or refresh tokens;
- ``revoke_requested_token``: the token a revocation request names (RFC 7009
  §2.1: a refresh token takes its whole family);
- ``revoke_families``: every token descended from these authorizations;
- ``end_grants``: everything a client, a user, or one user with one client,
  could still use (codes, device approvals, tokens).

What reaches the other processes (``revocation_stream``): revoked access
tokens by hash (a deny list kept until each token's expiry), except that
``end_grants`` of one user or of clients sends a not-before time instead
(per user with its ``sub`` values, per client), whatever the number of
tokens. Sent inside the revoking transaction (PostgreSQL NOTIFY, delivered
on commit) or right after it (Redis). Refresh tokens are never presented to
a resource server, so the database alone stops them.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import models

from . import clock, primary, revocation_stream
from .models import AccessToken, AuthorizationCode, Client, DeviceAuthorization, RefreshToken
from .models.tokens import Token
from .signals import token_revoked
from .subjects import subjects_with_live_tokens

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10
    from enum import Enum

    class StrEnum(str, Enum):
        def __str__(self) -> str:
            return self.value


class RevocationReason(StrEnum):
    """Why tokens were revoked: ``token_revoked``'s ``reason``.

    Where codes end for the same reason, their ``EndReason`` is the same word.
    """

    REVOKED = "revoked"  # RFC 7009 revocation request, or an admin action
    ROTATED = "rotated"  # replaced by refresh token rotation
    REUSE = "reuse"  # a code or refresh token was replayed: the family is revoked
    CONSENT_WITHDRAWN = "consent_withdrawn"  # the user (or an admin) withdrew the app's consent
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - the user's password changed (REVOKE_TOKENS_ON_PASSWORD_CHANGE)
    LOGGED_OUT = "logged_out"  # the user signed out of the session the tokens' sign-in was made in
    USER_DEACTIVATED = "user_deactivated"  # the user's is_active became False
    USER_DELETED = "user_deleted"
    CLIENT_DEACTIVATED = "client_deactivated"  # the client's is_active became False
    CLIENT_DELETED = "client_deleted"


# Enough to identify a revoked token for the stream and the token_revoked signal.
REVOKED_FIELDS = ("pk", "token_hash", "client", "user", "family_id", "created_at", "expires_at")

# Refresh tokens first, always: a rotation locks its refresh token before the
# access token, and two transactions taking the same rows in opposite orders
# would deadlock on PostgreSQL.
LOCK_ORDER = (RefreshToken, AccessToken)


def revoke_tokens(tokens: Iterable[Token], *, reason: RevocationReason) -> int:
    """Revoke these access and/or refresh tokens (rows with at least
    ``REVOKED_FIELDS``) unless already revoked; return how many were.

    The conditional UPDATE is also how a rotation claims its refresh token:
    of concurrent callers only one sees a count of 1.
    """
    return _revoke(list(tokens), reason=reason, denied=lambda token: True)


def _revoke(tokens: list[Token], *, reason: RevocationReason, denied: Callable[[AccessToken], bool]) -> int:
    """``revoke_tokens``, sending the hashes of the access tokens ``denied`` picks."""
    count = 0
    for model in LOCK_ORDER:
        rows = [token for token in tokens if isinstance(token, model)]
        if not rows:
            continue
        revoked = model.objects.filter(pk__in=[row.pk for row in rows], revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        if revoked:
            if model is AccessToken:
                revocation_stream.publish_revoked([row for row in rows if denied(row)])
            token_revoked.send(sender=model, tokens=rows, reason=reason)
        count += revoked
    return count


def revoke_families(family_ids: Iterable[uuid.UUID], *, reason: RevocationReason) -> int:
    """Revoke every token descended from any of these authorizations.

    RFC 6749 §4.1.2: "If an authorization code is used more than once, the
    authorization server MUST deny the request and SHOULD revoke (when
    possible) all tokens previously issued based on that authorization code."
    RFC 7009 §2.1 asks the same when a refresh token is revoked.
    """
    family_ids = list(family_ids)
    tokens: list[Token] = []
    for model in LOCK_ORDER:
        # From the primary: a token issued a moment ago may not be on a replica yet.
        live = model.objects.using(primary.alias(model)).filter(
            family_id__in=family_ids, revoked_at__isnull=True
        )
        tokens += live.only(*REVOKED_FIELDS)
    return revoke_tokens(tokens, reason=reason)


def revoke_requested_token(token: Token) -> None:
    """Revoke the token a revocation request names: an access token, or a
    refresh token with its whole family.

    RFC 7009 §2.1: "If the particular token is a refresh token and the
    authorization server supports the revocation of access tokens, then the
    authorization server SHOULD also invalidate all access tokens based on the
    same authorization grant".
    """
    if isinstance(token, AccessToken):
        revoke_tokens([token], reason=RevocationReason.REVOKED)
        return
    with primary.atomic(RefreshToken):
        # Lock the refresh token first: a rotation racing this request either
        # committed its new tokens already (so the family query below sees and
        # revokes them) or waits, then finds the token revoked and is refused.
        # It also takes row locks in a rotation's order (refresh token, then
        # access tokens), so the two cannot deadlock.
        list(RefreshToken.objects.select_for_update().filter(pk=token.pk).values_list("pk"))
        revoke_families([token.family_id], reason=RevocationReason.REVOKED)


@primary.atomic(RefreshToken)
def end_grants(*, reason: RevocationReason, **holders: Any) -> int:
    """End everything ``holders`` (model filters such as ``client=``,
    ``user=``, ``client__in=``, or ``client=`` with ``user=``) could still use:
    unredeemed codes, approved device requests not yet redeemed, and every
    live access and refresh token. Returns how many tokens were revoked.

    Used when a user withdraws consent, changes password or is deactivated
    or deleted, when a client is, and when an admin revokes a client's tokens
    (RFC 7009 §2.1, RFC 9700 §4.14.2). The order matters on PostgreSQL: each
    UPDATE waits for a code exchange or device poll already holding the row,
    and locking the refresh tokens waits for a rotation in progress, so the
    token query after them also sees the tokens those just issued; one
    starting later finds its code, request or token ended.

    Other processes are told with a not-before time when ``holders`` is one
    user or only clients (``_publish_not_before``), else with the hashes.
    """
    now = clock.now()
    code_reason = (
        reason if reason in AuthorizationCode.EndReason.values else AuthorizationCode.EndReason.REVOKED
    )
    AuthorizationCode.objects.filter(**holders).end(code_reason)
    # An approved device still polling is told access_denied (RFC 8628 §3.5).
    DeviceAuthorization.objects.filter(
        **holders, status=DeviceAuthorization.Status.APPROVED, used_at__isnull=True
    ).update(status=DeviceAuthorization.Status.DENIED, decided_at=now)
    live = {**holders, "revoked_at__isnull": True, "expires_at__gt": now}
    list(RefreshToken.objects.select_for_update().filter(**live).values_list("pk"))
    not_before = _publish_not_before(holders)
    rows = (model.objects.using(primary.alias(model)).filter(**live) for model in LOCK_ORDER)
    tokens = [token for queryset in rows for token in queryset.only(*REVOKED_FIELDS)]
    if not_before is None:
        return revoke_tokens(tokens, reason=reason)
    # Issued in the second of the not-before time: its whole-second ``at``
    # (a JWT's ``iat`` has no fraction) does not cover them, so deny them by hash.
    return _revoke(tokens, reason=reason, denied=lambda token: token.created_at.timestamp() >= not_before)


def _publish_not_before(holders: Mapping[str, Any]) -> float | None:
    """Send a not-before time for ``holders`` if they are one user (with the
    ``sub`` values its live tokens carry) or only clients; return it (Unix
    seconds), or None if ``holders`` is anything else or there is no stream."""
    if revocation_stream.engine() is None:
        return None
    if holders.keys() == {"user"}:
        user = holders["user"]
        user_pk = user.pk if isinstance(user, models.Model) else user
        return revocation_stream.publish_not_before(user=user_pk, subs=subjects_with_live_tokens(user_pk))
    if holders.keys() == {"client"}:
        clients = [holders["client"]]
    elif holders.keys() == {"client__in"}:
        clients = list(holders["client__in"])
    else:
        return None
    pks = [client.pk if isinstance(client, models.Model) else client for client in clients]
    at = None
    clients = Client.objects.using(primary.alias(Client)).filter(pk__in=pks)
    for client_id in clients.values_list("client_id", flat=True):
        at = revocation_stream.publish_not_before(client=client_id)
    return at
