"""Finding the access token of a protected API request: one precompiled query.

Every protected request runs this lookup, so it is kept to the minimum: one
indexed SELECT by token hash that joins the client and the user and reads
only the columns a protected request needs (``compiled_lookup``, which also
joins a multi-table-inheritance user model's parent tables). The same row, as
plain values, is what ``revocation_stream`` remembers in process.
"""

from __future__ import annotations

from . import revocation_stream
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
    "created_at",
    "expires_at",
    "revoked_at",
)
CLIENT_FIELDS = ("id", "client_id", "name", "is_active")

LOOKUP = CompiledLookup(
    AccessToken,
    "token_hash",
    fields=TOKEN_FIELDS,
    # Without the user's password hash, which memory therefore never holds.
    joins=[Join("client", CLIENT_FIELDS), USER_WITHOUT_PASSWORD],
)


def fetch_row(alias: str, token_hash: str) -> Row | None:
    """The row of the token with this hash, converted to Python values; None if unknown."""
    return LOOKUP.fetch_row(alias, token_hash)


def build(alias: str, row: Row) -> AccessToken:
    """An ``AccessToken`` with its ``client`` and ``user`` (None for a client-only token)."""
    return LOOKUP.build(alias, row)


def find_token(value: str) -> AccessToken | None:
    """The access token with this raw value: from this process's memory when
    the revocation stream is trusted and remembers it (and no event revoked
    it), else from the one query (and then remembered if it is active)."""
    token_hash = hash_secret(value)
    alias = LOOKUP.alias()
    trusted = revocation_stream.trusted()
    if trusted:
        row = revocation_stream.cached(token_hash)
        if row is not None:
            token = build(alias, row)
            if not revocation_stream.is_revoked(
                token_hash=token_hash,
                issued_at=token.created_at,
                client_id=token.client.client_id,
                user_pk=token.user_id,
                sub=None,
            ):
                return token
    row = fetch_row(alias, token_hash)
    if row is None:
        return None
    token = build(alias, row)
    if trusted and token.is_active():
        revocation_stream.remember(
            token_hash, row, token.expires_at, client_id=token.client.client_id, user_pk=token.user_id
        )
    return token
