"""Finding the access token of a protected API request: one precompiled query.

Every protected request runs this lookup, so it is kept to the minimum: one
indexed SELECT by token hash that joins the client and the user and reads
only the columns a protected request needs (``compiled_lookup``, which also
joins a multi-table-inheritance user model's parent tables). The same row, as
plain values with its layout's fingerprint, is what ``token_cache`` stores.
"""

from __future__ import annotations

from . import token_cache
from .compiled_lookup import USER_WITHOUT_PASSWORD, CompiledLookup, Join, Row
from .crypto import hash_secret
from .models import AccessToken

# family_id: UserInfo finds the sign-in (its claims request, OpenID Connect Core §5.5) by it.
# resources: the audience a protected resource checks (RFC 8707).
TOKEN_FIELDS = (
    "id",
    "token_hash",
    "client",
    "user",
    "scope",
    "resources",
    "family_id",
    "expires_at",
    "revoked_at",
)
CLIENT_FIELDS = ("id", "client_id", "name", "is_active")

LOOKUP = CompiledLookup(
    AccessToken,
    "token_hash",
    fields=TOKEN_FIELDS,
    # Without the user's password hash, which the token cache therefore never holds.
    joins=[Join("client", CLIENT_FIELDS), USER_WITHOUT_PASSWORD],
)


def fetch_row(alias: str, token_hash: str) -> Row | None:
    """The row of the token with this hash, converted to Python values; None if unknown."""
    return LOOKUP.fetch_row(alias, token_hash)


def build(alias: str, row: Row) -> AccessToken:
    """An ``AccessToken`` with its ``client`` and ``user`` (None for a client-only token)."""
    return LOOKUP.build(alias, row)


def find_token(value: str) -> AccessToken | None:
    """The access token with this raw value: from ``TOKEN_CACHE`` when it
    holds it in this row layout, else from the one query (and then cached if
    it is active)."""
    token_hash = hash_secret(value)
    layout = LOOKUP.layout.fingerprint
    row = token_cache.get(token_hash, layout)
    if row is not None:
        return build(LOOKUP.alias(), row)
    # From the read alias (a replica perhaps), or the primary if it missed there.
    alias, row = LOOKUP.fetch(token_hash)
    if row is None:
        return None
    token = build(alias, row)
    # Not a replica's row: cached after an invalidation, a lagging copy would outlive it.
    if token.is_active() and alias == LOOKUP.primary():
        token_cache.add(token_hash, layout, row, token.expires_at)
    return token
