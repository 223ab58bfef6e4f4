"""Asking the issuer about an opaque token (RFC 7662 §2), answers cached in process.

The request authenticates with ``RESOURCE_SERVER_CLIENT_ID`` and
``RESOURCE_SERVER_CLIENT_SECRET`` as ``client_secret_basic`` (RFC 6749
§2.3.1; RFC 7662 §2.1: "the protected resource [...] MUST also send [...]
the client credentials"). Answers, active or not, are kept in this
process's memory, keyed by the token's hash (never the token itself), for
at most ``RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS`` and never past the
token's ``exp``: RFC 7662 §4 weighs exactly this ("a protected resource
that caches the response [...] will not learn of a revocation until the
cache entry expires"). The cache holds ``memory.MAX_ENTRIES`` answers at
most, dropping the least recently used.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from .. import clock
from ..jwt_access_tokens import is_time
from ..settings import oauth_settings
from .documents import IssuerUnavailable, get_json, metadata
from .memory import ExpiringCache


class NotIntrospectable(Exception):
    """This resource server cannot introspect at all: it has no client
    credentials, or the issuer offers no introspection endpoint. An opaque
    token is then one it cannot accept (JWT access tokens only)."""


_answers = ExpiringCache()


def introspect(value: str, token_hash: str) -> dict[str, Any]:
    """The issuer's §2.2 answer about the token ``value`` (whose hash is
    ``token_hash``): from this process's cache, else asked. The answer is a
    JSON object with a boolean ``active``; judging it is the caller's job.
    ``NotIntrospectable`` or ``IssuerUnavailable`` when it cannot be had."""
    now = clock.now()
    answer = _answers.get(token_hash, now)
    if answer is not None:
        return answer
    answer = _ask(value)
    seconds = oauth_settings.RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS
    until = now + timedelta(seconds=seconds)
    exp = answer.get("exp")
    if answer["active"] and is_time(exp, whole=True):
        until = min(until, datetime.fromtimestamp(exp, tz=now.tzinfo))
    if until > now:
        _answers.put(token_hash, answer, until)
    return answer


def _ask(value: str) -> dict[str, Any]:
    client_id = oauth_settings.RESOURCE_SERVER_CLIENT_ID
    secret = oauth_settings.RESOURCE_SERVER_CLIENT_SECRET
    if not client_id or not secret:
        raise NotIntrospectable("RESOURCE_SERVER_CLIENT_ID and RESOURCE_SERVER_CLIENT_SECRET are not set")
    endpoint = metadata().introspection_endpoint
    if endpoint is None:
        raise NotIntrospectable("the issuer's metadata has no introspection_endpoint")
    # RFC 6749 §2.3.1: each part form-urlencoded, then joined and base64-encoded.
    credentials = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    answer, _headers = get_json(
        endpoint,
        form=urlencode({"token": value, "token_type_hint": "access_token"}).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")},
    )
    if not isinstance(answer.get("active"), bool):
        raise IssuerUnavailable(f"{endpoint}: the answer has no boolean 'active' (RFC 7662 §2.2)")
    return answer


def forget() -> None:
    """Drop every cached answer (tests)."""
    _answers.clear()
