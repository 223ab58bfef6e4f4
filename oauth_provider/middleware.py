"""``LoginSessionMiddleware``: clients hear of a browser session that Django
replaces without a logout (Back-Channel Logout 1.0).

Django sends ``user_logged_out`` only from ``logout()``. Other ends of a
signed-in session flush it silently: ``login()`` as another user on the same
browser ("To avoid reusing another user's session, create a new, empty
session"), a session whose password hash no longer matches (the user changed
their password elsewhere), or a site's own ``request.session.flush()``. By
then the session's ``sid`` is gone, and with it the only way to find the
sign-ins its clients hold, so it must be read just before: this middleware
lets each request's session do so on ``flush`` (``backchannel_logout.session_flushed``),
ending those sign-ins as a sign-out would.

Install it after ``SessionMiddleware``::

    MIDDLEWARE = [
        ...
        "django.contrib.sessions.middleware.SessionMiddleware",
        "oauth_provider.middleware.LoginSessionMiddleware",
        ...
    ]

It costs nothing on a request that does not flush its session (the session
is not even loaded).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse

from .backchannel_logout import session_flushed


class LoginSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None:
            # This session object only (an attribute of the instance), this request only.
            session.flush = functools.partial(_flush, request, session.flush)
            session.aflush = functools.partial(_aflush, request, session.aflush)
        return self.get_response(request)


def _flush(request: HttpRequest, flush: Callable[[], None]) -> None:
    session_flushed(request)
    flush()


async def _aflush(request: HttpRequest, aflush: Callable[[], Awaitable[Any]]) -> None:
    # alogin() flushes with aflush; the sign-ins end in a thread, as database work must.
    await sync_to_async(session_flushed)(request)
    await aflush()
