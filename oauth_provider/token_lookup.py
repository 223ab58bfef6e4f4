"""Finding the token a revocation or introspection request names (RFC 7009 §2.1, RFC 7662 §2.1).

Both endpoints take ``token`` and an optional ``token_type_hint``, and both
treat the hint the same way: RFC 7009 §2.1 "If the server is unable to locate
the token using the given hint, it MUST extend its search across all of its
supported token types." RFC 7662 §2.1 says the same. An unknown hint value is
not an error either: it only means there is no preferred order.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from .compiled_lookup import USER_WITHOUT_PASSWORD, CompiledLookup, Join
from .crypto import hash_secret
from .errors import InvalidRequest
from .models import AccessToken, RefreshToken
from .models.tokens import Token

# The user's subject identifiers, from which introspection answers ``sub``
# (``subjects.subject``) in the same query; a user who has none yet gets them
# on first need.
USER_SUBJECT = Join("oauth_subject", through="user")
# token_type_hint values (RFC 7009 §4.1.2) -> the lookup of that type by hash,
# with its client and user (never the user's password hash).
TOKEN_TYPES: dict[str, CompiledLookup] = {
    hint: CompiledLookup(model, "token_hash", joins=[Join("client"), USER_WITHOUT_PASSWORD, USER_SUBJECT])
    for hint, model in (("access_token", AccessToken), ("refresh_token", RefreshToken))
}

# What a request for one token may carry besides client authentication.
TOKEN_PARAMETERS = frozenset({"token", "token_type_hint"})


def require_token(params: Mapping[str, str]) -> str:
    """The ``token`` parameter, which both RFCs make REQUIRED."""
    try:
        return params["token"]
    except KeyError:
        raise InvalidRequest(_("The token parameter is required.")) from None


def find_token(value: str, hint: str | None = None) -> Token | None:
    """The access or refresh token with this value, with its client and user.

    The hinted type is searched first, so a correct hint costs one indexed
    query; a wrong or missing one costs one more. Whether the token is active,
    and whose it is, is for the caller to decide.
    """
    lookups = sorted(TOKEN_TYPES.values(), key=lambda lookup: lookup is not TOKEN_TYPES.get(hint or ""))
    token_hash = hash_secret(value)
    for lookup in lookups:
        token = lookup.get(token_hash)
        if token is not None:
            return token
    return None
