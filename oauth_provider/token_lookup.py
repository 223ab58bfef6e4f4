"""Finding a token this server issued: the one place that does it.

Two questions are asked of it:

``authenticate(value)``: the access token of a protected request (RFC 6750).
    A JWT access token (RFC 9068) is checked where it stands: signature,
    ``typ``, ``iss``, ``exp`` (``jwt_access_tokens``). An opaque one is found
    by its hash. Then, whether it was revoked: a process subscribed to the
    revocation stream (``revocation_stream.trusted()``) knows that in memory,
    keeps the rows of the opaque tokens it validated (``cached``/``remember``)
    and answers with no query and no network. Any other process asks the
    database: one indexed query that brings the client and user along.

``find_token(value, hint)``: the access or refresh token an introspection or
    revocation request names (RFC 7662 §2.1, RFC 7009 §2.1), always from the
    database, since the caller goes on to read or change it.

A JWT access token is also a row, keyed by the hash of its whole value, so
both questions find it exactly as they find an opaque one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import NamedTuple

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from . import clock, jwt_access_tokens, primary, revocation_stream
from .bearer import BearerToken
from .compiled_lookup import USER_WITHOUT_PASSWORD, CompiledLookup, Join, Row
from .crypto import hash_secret
from .errors import InvalidBearerToken, InvalidRequest
from .models import AccessToken, Client, RefreshToken
from .models.tokens import Token

# The columns a protected request needs, with the client and the user (never
# the user's password hash, so the in-process cache never holds it).
# family_id: UserInfo finds the sign-in (its claims request, OpenID Connect Core §5.5) by it.
PROTECTED = CompiledLookup(
    AccessToken,
    "token_hash",
    fields=(
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
    ),
    joins=[Join("client", ("id", "client_id", "name", "is_active")), USER_WITHOUT_PASSWORD],
)

# token_type_hint values (RFC 7009 §4.1.2) -> the lookup of that type by hash,
# with its client, user (never the password hash) and the user's subject
# identifiers, from which introspection answers ``sub`` in the same query.
TOKEN_MODELS: dict[str, type[Token]] = {"access_token": AccessToken, "refresh_token": RefreshToken}
TOKEN_TYPES: dict[str, CompiledLookup] = {
    hint: CompiledLookup(
        model,
        "token_hash",
        joins=[Join("client"), USER_WITHOUT_PASSWORD, Join("oauth_subject", through="user")],
    )
    for hint, model in TOKEN_MODELS.items()
}

# What a request for one token may carry besides client authentication.
TOKEN_PARAMETERS = frozenset({"token", "token_type_hint"})


def authenticate(value: str) -> BearerToken:
    """The valid access token ``value``; ``InvalidBearerToken`` otherwise (see ``bearer.authenticate``)."""
    token_hash = hash_secret(value)
    trusted = revocation_stream.trusted()
    claims = None
    if jwt_access_tokens.looks_like_jwt(value):
        try:
            claims = jwt_access_tokens.local_claims(value, audience=None)
        except jwt_access_tokens.InvalidAccessToken:
            raise InvalidBearerToken from None
        if trusted:
            token = _from_claims(token_hash, claims)
            # Issued before this process subscribed: checked in the database
            # once (a deleted holder's event was never heard), then remembered.
            known = revocation_stream.heard_since(token.issued_at) or revocation_stream.cached(token_hash)
            if known and not _revoked(token, user_pk=None):
                return token
        # Not subscribed, issued before it, or revoked in memory: the database decides.
    elif trusted:
        row = revocation_stream.cached(token_hash)
        if row is not None:
            token = _from_row(PROTECTED.alias(), row)
            if token.is_active() and not _revoked(token, user_pk=row[columns().user_pk]):
                return token
    seen = revocation_stream.forgotten() if trusted else None
    found = PROTECTED.fetch(token_hash)
    if found is None:
        raise InvalidBearerToken
    alias, row = found
    token = _from_row(alias, row)
    if claims is not None:
        # What the JWT says, as without a query: a view sees the same either way.
        token = replace(token, sub=claims["sub"], jti=claims["jti"], audience=_audience(claims["aud"]))
    if not _valid(alias, row):
        raise InvalidBearerToken
    # A replica may not show yet a revocation this process already heard of.
    if trusted and _revoked(token, user_pk=row[columns().user_pk]):
        raise InvalidBearerToken
    if trusted:
        # Read after this process was trusted: a revocation committed since
        # arrives as an event, which the deny list holds until the token's
        # expiry, so ``_revoked`` catches a row remembered a moment too late.
        revocation_stream.remember(
            token_hash,
            row,
            token.expires_at,
            client_id=token.client_id,
            user_pk=row[columns().user_pk],
            seen=seen,
        )
    return token


class Columns(NamedTuple):
    """Where ``PROTECTED``'s row holds what a protected request reads."""

    token_hash: int
    scope: int
    resources: int
    family_id: int
    created_at: int
    expires_at: int
    revoked_at: int
    user_pk: int
    client_id: int
    client_active: int
    user_active: int | None  # None: the user model has no is_active column


# Each of ``Columns`` as (part of the row, the column's attname), in order.
COLUMN_SOURCES = {
    "user_pk": ("", "user_id"),
    "client_id": ("client", "client_id"),
    "client_active": ("client", "is_active"),
    "user_active": ("user", "is_active"),
}


@functools.cache
def columns() -> Columns:
    """``PROTECTED``'s ``Columns``, read from its layout once (the models must be loaded)."""
    layout = PROTECTED.layout

    def at(name: str) -> int | None:
        part_name, attname = COLUMN_SOURCES.get(name, ("", name))
        part = layout.part(part_name) if part_name else layout.root
        return part.start + part.attnames.index(attname) if attname in part.attnames else None

    return Columns(*(at(name) for name in Columns._fields))


def _valid(alias: str, row: Row) -> bool:
    """Whether the token of ``row`` is unrevoked and unexpired, and its client and user active."""
    at = columns()
    if row[at.revoked_at] is not None or row[at.expires_at] <= clock.now() or not row[at.client_active]:
        return False
    if row[at.user_pk] is None:
        return True
    if at.user_active is None:
        # A user model whose is_active is not a column (AbstractBaseUser's attribute, say).
        return PROTECTED.layout.part("user").instance(alias, row).is_active
    return bool(row[at.user_active])


def _revoked(token: BearerToken, *, user_pk: object) -> bool:
    return revocation_stream.is_revoked(
        token_hash=token.token_hash,
        issued_at=token.issued_at,
        client_id=token.client_id,
        user_pk=user_pk,
        sub=token.sub,
    )


def _instance(alias: str, row: Row, name: str) -> Callable[[], object]:
    """Builds the joined ``name`` part of ``row`` when first needed: a
    protected view that reads neither client nor user pays for neither."""
    return lambda: PROTECTED.layout.part(name).instance(alias, row)


def _from_row(alias: str, row: Row) -> BearerToken:
    at = columns()
    return BearerToken(
        token_hash=row[at.token_hash],
        scope=row[at.scope],
        audience=tuple(row[at.resources].split()),
        client_id=row[at.client_id],
        sub=None,
        expires_at=row[at.expires_at],
        issued_at=row[at.created_at],
        jti=None,
        family_id=row[at.family_id],
        client=SimpleLazyObject(_instance(alias, row, "client")),
        user=None if row[at.user_pk] is None else LazyUser(_instance(alias, row, "user")),
    )


class LazyUser(SimpleLazyObject):
    """A token's user, built or read from the database on first use.

    A protected view that only checks that there is a user (DRF's
    ``IsAuthenticated``) reads none.
    """

    is_authenticated = True
    is_anonymous = False


def _token_user(token_hash: str) -> object:
    rows = AccessToken.objects.select_related("user").filter(token_hash=token_hash)
    row = primary.first_or_from_primary(rows)
    if row is None or row.user is None:
        return AnonymousUser()
    return row.user


def _audience(aud: str | list[str]) -> tuple[str, ...]:
    """A JWT's ``aud``: one string or an array of them (RFC 7519 §4.1.3)."""
    return (aud,) if isinstance(aud, str) else tuple(aud)


def _from_claims(token_hash: str, claims: Mapping) -> BearerToken:
    client_id, sub = claims["client_id"], claims["sub"]
    # RFC 9068 §2.2: a token of the client alone names the client as its subject.
    user = None if sub == client_id else LazyUser(lambda: _token_user(token_hash))
    return BearerToken(
        token_hash=token_hash,
        scope=claims.get("scope", ""),
        audience=_audience(claims["aud"]),
        client_id=client_id,
        sub=sub,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        jti=claims.get("jti"),
        family_id=None,
        client=SimpleLazyObject(
            lambda: primary.first_or_from_primary(Client.objects.filter(client_id=client_id))
        ),
        user=user,
    )


def require_token(params: Mapping[str, str]) -> str:
    """The ``token`` parameter, which RFC 7009 §2.1 and RFC 7662 §2.1 make REQUIRED."""
    try:
        return params["token"]
    except KeyError:
        raise InvalidRequest(_("The token parameter is required.")) from None


def find_token(value: str, hint: str | None = None) -> Token | None:
    """The access or refresh token with this value, with its client and user.

    RFC 7009 §2.1: "If the server is unable to locate the token using the
    given hint, it MUST extend its search across all of its supported token
    types" (RFC 7662 §2.1 says the same); an unknown hint only means no
    preferred order. The type the value's prefix names (``crypto.generate_token``)
    is searched first, then the hinted type, so a token issued here costs one
    indexed query whatever the hint, and only an unknown value costs two.
    Whether the token is active, and whose it is, is for the caller to decide.
    """
    named = next((name for name, model in TOKEN_MODELS.items() if value.startswith(model.prefix)), None)
    # Each type once, in that order.
    lookups = dict.fromkeys(TOKEN_TYPES[name] for name in (named, hint, *TOKEN_TYPES) if name in TOKEN_TYPES)
    token_hash = hash_secret(value)
    for lookup in lookups:
        token = lookup.get(token_hash)
        if token is not None:
            return token
    return None
