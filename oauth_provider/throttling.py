"""Limits on guessing user codes at the verification page (RFC 8628 §5.1).

§5.1: "the authorization server MUST protect against brute forcing of the
user code [...] rate-limiting, e.g., by limiting the number of failed
attempts". Wrong codes are counted per signed-in user and per client address
in the ``THROTTLE_CACHE``; when either counter reaches
``USER_CODE_MAX_ATTEMPTS`` within ``USER_CODE_ATTEMPT_WINDOW_SECONDS``, the
page refuses to look codes up until the window, which starts at the first
wrong code, has passed.
"""

from __future__ import annotations

import hashlib

from django.core.cache import BaseCache, caches
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .settings import oauth_settings

KEY_PREFIX = "oauth_provider:user_code_attempts"


def _cache() -> BaseCache:
    return caches[oauth_settings.THROTTLE_CACHE]


def _keys(request: HttpRequest) -> list[str]:
    """One counter for the user, one for the address.

    The address is hashed: it is personal data, and cache backends such as
    memcached refuse keys with unusual characters.
    """
    keys = [f"{KEY_PREFIX}:user:{request.user.pk}"]
    address = request.META.get("REMOTE_ADDR") or ""
    keys.append(f"{KEY_PREFIX}:addr:{hashlib.sha256(address.encode('utf-8', 'surrogatepass')).hexdigest()}")
    return keys


class Throttled(Exception):
    """Too many wrong user codes; ``message`` is shown to the user."""

    message = _("Too many wrong codes were entered. Wait a few minutes, then try again.")


def check(request: HttpRequest) -> None:
    """Raise ``Throttled`` if this user or address entered too many wrong codes lately."""
    counts = _cache().get_many(_keys(request))
    if any(count >= oauth_settings.USER_CODE_MAX_ATTEMPTS for count in counts.values()):
        raise Throttled


def record_wrong_code(request: HttpRequest) -> None:
    """Count one wrong code against the user and the address.

    ``add`` then ``incr`` is atomic in every shared cache backend, so
    concurrent guesses are all counted; ``add`` only sets the window's expiry
    when a counter is created.
    """
    cache = _cache()
    window = oauth_settings.USER_CODE_ATTEMPT_WINDOW_SECONDS
    for key in _keys(request):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:
            # The window ended between add and incr: this guess opens a new one.
            cache.add(key, 1, timeout=window)
