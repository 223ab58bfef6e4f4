"""The issuer's signing keys (RFC 7517 JWK Set, at the metadata's ``jwks_uri``).

A key set is kept for its ``Cache-Control`` max-age (at least
``RESOURCE_SERVER_JWKS_REFRESH_SECONDS``, at most a day). A token naming a
``kid`` the set lacks (the issuer rotated its keys) refetches it before its
time, but at most once per ``RESOURCE_SERVER_JWKS_REFRESH_SECONDS``: tokens
with made-up kids cannot make this server fetch at will. A failed fetch
counts as one too, so an issuer that is down is asked again only that often.

Only asymmetric signature keys are kept (RSA, EC, OKP; ``use`` absent or
``sig``), public parts only: a symmetric key in a published set would let
anyone who read it sign tokens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, KeySet

from .. import clock
from ..settings import oauth_settings
from .documents import IssuerUnavailable, fresh_until, get_json, metadata

KEY_TYPES = ("RSA", "EC", "OKP")


@dataclass
class _KeySetState:
    """The last key set fetched for an issuer, and when it was last asked for."""

    keys: KeySet | None = None
    fresh_until: datetime | None = None
    last_attempt: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_states: dict[str, _KeySetState] = {}
_states_lock = threading.Lock()


def key_set() -> KeySet:
    """The issuer's keys: those this process holds, fetched when it has none
    or they are stale. ``IssuerUnavailable`` when they could not be."""
    state = _state(oauth_settings.RESOURCE_SERVER_ISSUER)
    if state.keys is not None and clock.now() < state.fresh_until:
        return state.keys
    with state.lock:
        now = clock.now()
        if state.keys is None or now >= state.fresh_until:
            if _recently_asked(state, now):
                raise IssuerUnavailable("the issuer's JWKS could not be fetched lately; not asking again yet")
            _fetch(state, now)
        return state.keys


def refreshed_key_set() -> KeySet:
    """The issuer's keys read again, for a token naming a ``kid`` they lack,
    unless they were fetched (or tried) within
    ``RESOURCE_SERVER_JWKS_REFRESH_SECONDS``: then the keys held, which
    another thread may have just refreshed. ``IssuerUnavailable`` if the
    fetch fails."""
    state = _state(oauth_settings.RESOURCE_SERVER_ISSUER)
    with state.lock:
        now = clock.now()
        if not _recently_asked(state, now):
            _fetch(state, now)
        return state.keys


def _state(issuer: str) -> _KeySetState:
    with _states_lock:
        return _states.setdefault(issuer, _KeySetState())


def _recently_asked(state: _KeySetState, now: datetime) -> bool:
    interval = timedelta(seconds=oauth_settings.RESOURCE_SERVER_JWKS_REFRESH_SECONDS)
    return state.last_attempt is not None and now < state.last_attempt + interval


def _fetch(state: _KeySetState, now: datetime) -> None:
    """Read the key set; a failure counts as an attempt too, so an issuer
    that is down is asked again only once per refresh interval."""
    state.last_attempt = now
    jwks_uri = metadata().jwks_uri
    if jwks_uri is None:
        raise IssuerUnavailable("the issuer's metadata has no jwks_uri")
    document, headers = get_json(jwks_uri)
    keys = _signature_keys(document.get("keys"))
    state.keys = KeySet(keys)
    state.fresh_until = fresh_until(headers, now, floor=oauth_settings.RESOURCE_SERVER_JWKS_REFRESH_SECONDS)


def _signature_keys(entries: Any) -> list[Any]:
    """The public asymmetric signature keys among a JWK Set's ``keys``;
    entries that are not such keys, or cannot be read, are left out."""
    keys = []
    for entry in entries if isinstance(entries, list) else []:
        if (
            not isinstance(entry, dict)
            or entry.get("kty") not in KEY_TYPES
            or entry.get("use", "sig") != "sig"
        ):
            continue
        try:
            key = JWKRegistry.import_key(entry)
            keys.append(JWKRegistry.import_key(key.as_dict(private=False)))
        except (JoseError, ValueError, TypeError, KeyError):
            continue
    return keys


def forget() -> None:
    """Drop the key sets this process keeps (tests)."""
    with _states_lock:
        _states.clear()
