"""Limits on guessing and flooding, counted atomically in ``THROTTLE_CACHE``.

Every limit has two counters, each on its own: one for the account or
client the attempt names (the *subject*) and one for the client address
(an IPv6 client's /64 network, ``client_network``).
Either counter reaching the limit refuses the attempt, so a new address is
still blocked for the account, and another account from a blocked address is
blocked too.

What is limited (settings in parentheses):

- ``CLIENT_AUTH``: failed client authentications, per claimed ``client_id``
  of a confidential client (the others have no secret to guess)
  (``CLIENT_AUTH_MAX_ATTEMPTS`` per ``CLIENT_AUTH_ATTEMPT_WINDOW_SECONDS``).
- ``PASSWORD_GRANT``: failed password-grant logins, per username; RFC 6749
  §4.3.2: "the authorization server MUST protect the endpoint against brute
  force attacks" (``PASSWORD_GRANT_MAX_ATTEMPTS`` per ``..._WINDOW_SECONDS``).
- ``USER_CODE``: wrong user codes on the verification page, per signed-in
  user; RFC 8628 §5.1: "the authorization server MUST protect against brute
  forcing of the user code" (``USER_CODE_MAX_ATTEMPTS`` per ``..._WINDOW_SECONDS``).
- ``DEVICE_AUTHORIZATION``: every device authorization request, per client
  (``DEVICE_AUTHORIZATION_MAX_REQUESTS`` per ``..._REQUEST_WINDOW_SECONDS``).
  The cap on a client's pending ones is counted in the database instead
  (``device.check_pending_capacity``).
- ``REGISTRATION``: every client registration and update (RFC 7591 §3,
  RFC 7592 §2.2), per client address only: nothing is guessed, and there is
  no client yet to count by (``REGISTRATION_MAX_REQUESTS`` per
  ``REGISTRATION_REQUEST_WINDOW_SECONDS``).

Atomic by reservation: an attempt is counted *before* the guessable work is
done (``reserve``), by ``cache.incr``, and goes ahead only if the value that
increment returned is within the limit. A burst of concurrent wrong guesses
therefore gets exactly ``limit`` of them checked, where reading the counters
first and counting afterwards would let the whole burst through. When the work
succeeds, the reservation is given back (``decr``): only failures stay counted.
A success never clears earlier failures, or an attacker holding one valid
account or a client's own traffic could keep resetting the counters. Refused
attempts are given back too, so hammering from a blocked address does not
lengthen anyone's block. While an attempt is being checked it holds its
place: when earlier failures plus attempts in flight for one subject (or one
address) exceed the limit, a *correct* attempt can see a 429 too. Callers
therefore hold a reservation only around the check itself.

A window starts with a counter's first attempt and lasts ``window`` seconds
(the cache entry's timeout); the next attempt after it opens a new one. The
answer's ``Retry-After`` is the time left. Keys hold a keyed hash (HMAC with
``SECRET_KEY``) of the subject and of the address: addresses are personal
data, and memcached refuses keys with unusual characters.

Counting uses the generic cache API: ``incr`` and ``decr`` on each counter,
``add`` to create one, and an extra ``:ends`` entry holding the window's end
for ``Retry-After``. Only creating a counter and refusing cost more than the
one ``incr`` (and ``decr``) per counter. Any backend every process shares
will do (Django's ``RedisCache``, ``PyMemcacheCache``); see ``checks.W008``
for those whose ``incr`` is not atomic.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType

from django.core.cache import BaseCache, caches
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .errors import TooManyRequests
from .settings import oauth_settings

KEY_PREFIX = "oauth_provider:throttle"


@dataclass(frozen=True)
class Limit:
    """At most ``max_attempts`` per ``window`` seconds, for each subject and each address.

    ``name`` separates the counters of different limits; the two setting
    names are read at each use, so ``override_settings`` applies at once.
    ``description`` is the ``error_description`` of the 429 (constant, ASCII
    English on the wire).
    """

    name: str
    max_setting: str
    window_setting: str
    description: str | Promise

    @property
    def max_attempts(self) -> int:
        return getattr(oauth_settings, self.max_setting)

    @property
    def window(self) -> int:
        return getattr(oauth_settings, self.window_setting)

    def keys(self, subject: str | None, meta: Mapping[str, str]) -> tuple[str, ...]:
        """The subject's counter key (none without a subject) and the address's (``REMOTE_ADDR``)."""
        address = f"{KEY_PREFIX}:{self.name}:addr:{_digest(client_network(meta.get('REMOTE_ADDR') or ''))}"
        if subject is None:
            return (address,)
        return (f"{KEY_PREFIX}:{self.name}:subject:{_digest(subject)}", address)


TOO_MANY_FAILURES = _("Too many failed attempts. Try again later.")

CLIENT_AUTH = Limit(
    "client_auth", "CLIENT_AUTH_MAX_ATTEMPTS", "CLIENT_AUTH_ATTEMPT_WINDOW_SECONDS", TOO_MANY_FAILURES
)
PASSWORD_GRANT = Limit(
    "password", "PASSWORD_GRANT_MAX_ATTEMPTS", "PASSWORD_GRANT_ATTEMPT_WINDOW_SECONDS", TOO_MANY_FAILURES
)
USER_CODE = Limit(
    "user_code", "USER_CODE_MAX_ATTEMPTS", "USER_CODE_ATTEMPT_WINDOW_SECONDS", TOO_MANY_FAILURES
)
DEVICE_AUTHORIZATION = Limit(
    "device_authorization",
    "DEVICE_AUTHORIZATION_MAX_REQUESTS",
    "DEVICE_AUTHORIZATION_REQUEST_WINDOW_SECONDS",
    _("Too many device authorization requests. Try again later."),
)
REGISTRATION = Limit(
    "registration",
    "REGISTRATION_MAX_REQUESTS",
    "REGISTRATION_REQUEST_WINDOW_SECONDS",
    _("Too many client registrations from this address. Try again later."),
)
# Each new https client_id makes the server fetch a document (and store a
# client): anyone may send one, so the fetches one address causes are counted.
METADATA_DOCUMENT_FETCH = Limit(
    "metadata_document_fetch",
    "CLIENT_ID_METADATA_DOCUMENT_MAX_FETCHES",
    "CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW_SECONDS",
    _("Too many new client ID metadata documents from this address. Try again later."),
)


# An IPv6 subscriber is given a whole /64 at least (RFC 6177 §2), and can
# use any of its 2**64 addresses: counting each would let one guesser walk
# past the address limit.
IPV6_CLIENT_PREFIX = 64


def client_network(address: str) -> str:
    """What one client's address counter is keyed by: an IPv4 address (also
    when an IPv6 socket shows it as ``::ffff:a.b.c.d``), the /64 network of an
    IPv6 address, in canonical form; anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


def _cache() -> BaseCache:
    return caches[oauth_settings.THROTTLE_CACHE]


def _digest(value: str) -> str:
    return salted_hmac(KEY_PREFIX, value, algorithm="sha256").hexdigest()


class Reservation:
    """One attempt, counted against each of its counters until ``release``.

    As a context manager it releases the attempt when the block ends
    normally or raises anything but ``counted``: only those failures count.
    """

    def __init__(self, cache: BaseCache, counted: tuple[type[BaseException], ...]):
        self.cache = cache
        self.counted = counted
        self.keys: list[str] = []  # the counters this attempt has been added to

    def _add(self, keys: tuple[str, ...], window: int) -> Iterator[tuple[int, Callable[[], int]]]:
        """Add the attempt to each counter in turn, lazily: a refusal stops
        the counting. Yields each new count and how to get its ``Retry-After``."""
        for key in keys:
            count = _increment(self.cache, key, window)
            self.keys.append(key)
            yield count, functools.partial(_retry_after, self.cache, key, window)

    def release(self) -> None:
        """Give the attempt back: it was not a failure."""
        for key in self.keys:
            _decrement(self.cache, key)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not isinstance(exc, self.counted):
            self.release()


def reserve(
    limit: Limit,
    subject: str | None,
    meta: Mapping[str, str],
    *,
    counted: tuple[type[BaseException], ...] = (),
) -> Reservation:
    """Count one attempt by ``subject`` from ``meta``'s address, before making it.

    With ``subject`` None only the address counts: for an attempt at nothing
    guessable, where a subject counter would only let anyone lock it out.

    Raises ``TooManyRequests`` (with ``Retry-After`` seconds) when either
    counter is already full; the refused attempt is then not counted, so
    hammering from a blocked address does not lengthen anyone's block.
    """
    cache = _cache()
    reservation = Reservation(cache, counted)
    for count, retry_after in reservation._add(limit.keys(subject, meta), limit.window):
        if count > limit.max_attempts:
            seconds = retry_after()
            reservation.release()
            raise TooManyRequests(seconds, limit.description)
    return reservation


def count_request(limit: Limit, subject: str | None, meta: Mapping[str, str]) -> None:
    """Count a request that always counts (a rate, not a guess), or raise
    ``TooManyRequests``; with ``subject`` None, per address only."""
    reserve(limit, subject, meta)


def check(limit: Limit, subject: str, meta: Mapping[str, str]) -> None:
    """Raise ``TooManyRequests`` if either counter is full, counting nothing.

    For pages that show "try later" instead of a form; it guards nothing
    (a read can be outdated at once): the attempt itself must ``reserve``.
    """
    cache = _cache()
    keys = limit.keys(subject, meta)
    counts = cache.get_many(keys)
    for key in keys:
        if counts.get(key, 0) >= limit.max_attempts:
            raise TooManyRequests(_retry_after(cache, key, limit.window), limit.description)


def _increment(cache: BaseCache, key: str, window: int) -> int:
    """Add one to ``key``'s counter, creating it for ``window`` seconds; the new value."""
    while True:
        try:
            return cache.incr(key)
        except ValueError:
            # No counter yet: this attempt opens the window. Of concurrent
            # creators ``add`` lets one win; the others increment its counter.
            if cache.add(key, 1, timeout=window):
                cache.set(_ends_key(key), time.time() + window, timeout=window)
                return 1


def _decrement(cache: BaseCache, key: str) -> None:
    # A counter gone meanwhile (its window ended) has nothing to give back.
    with contextlib.suppress(ValueError):
        cache.decr(key)


def _retry_after(cache: BaseCache, key: str, window: int) -> int:
    """Whole seconds until full counter ``key``'s window ends (RFC 9110 §10.2.3), at least 1."""
    ends = cache.get(_ends_key(key))
    if ends is None:
        # A full counter whose window has no end. Django's Redis backend
        # checks that a key exists and then INCRs it: a counter expiring in
        # between comes back without a timeout and would block for ever.
        cache.touch(key, window)
        cache.set(_ends_key(key), time.time() + window, timeout=window)
        return window
    return max(1, math.ceil(ends - time.time()))


def _ends_key(key: str) -> str:
    """Where the end of ``key``'s window is kept (a Unix time), for ``Retry-After``."""
    return f"{key}:ends"
