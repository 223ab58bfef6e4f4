"""The OpenID Provider's view of a browser session: when its user signed in
(``auth_time``, Core 1.0 §2) and which session it is (``sid``, Back-Channel
Logout 1.0 §3, Front-Channel Logout 1.0 §3).

Both live in Django's session, so they end with it. A sign-in (Django's
``user_logged_in`` signal) records the time and starts a new ``sid``: what
clients learnt of the previous session must not describe the new one. When
the same user signs in again in a session Django keeps (a fresh login for
``prompt=login`` or ``max_age``), the session also keeps the ``sid`` it had
(``session_sids``): the clients signed in under it are told when the browser
session ends (``backchannel_logout``), not left with a session nobody ends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from . import clock

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

SID_SESSION_KEY = "_oauth_provider_sid"
AUTH_TIME_SESSION_KEY = "_oauth_provider_auth_time"
# The sids of the same user's earlier sign-ins in this browser session.
EARLIER_SIDS_SESSION_KEY = "_oauth_provider_earlier_sids"
# Kept at most (the latest): a session whose user signs in again more often
# leaves the clients of its oldest sign-ins to their tokens' expiry.
MAX_EARLIER_SIDS = 20


@receiver(user_logged_in, dispatch_uid="oauth_provider.login_sessions")
def _record_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    session = request.session
    # Still here only if Django kept the session: the same user signed in again.
    previous = session.get(SID_SESSION_KEY)
    if previous:
        earlier = [*session.get(EARLIER_SIDS_SESSION_KEY, []), previous]
        session[EARLIER_SIDS_SESSION_KEY] = earlier[-MAX_EARLIER_SIDS:]
    session[AUTH_TIME_SESSION_KEY] = int(clock.now().timestamp())
    session[SID_SESSION_KEY] = secrets.token_urlsafe(24)


def session_sids(session: SessionBase) -> list[str]:
    """Every ``sid`` of this browser session: those of its user's earlier
    sign-ins in it, then the current one."""
    current = session.get(SID_SESSION_KEY)
    return [*session.get(EARLIER_SIDS_SESSION_KEY, []), *([current] if current else [])]


def forget_sids(session: SessionBase) -> list[str]:
    """``session_sids``, removed from the session, which is ending: whoever
    ends their sign-ins does it once."""
    sids = session_sids(session)
    session.pop(SID_SESSION_KEY, None)
    session.pop(EARLIER_SIDS_SESSION_KEY, None)
    return sids


def session_id(request: HttpRequest) -> str:
    """The ``sid`` of the signed-in user's session, made on first need
    (a session begun before this app was installed has none yet)."""
    sid = request.session.get(SID_SESSION_KEY)
    if not sid:
        sid = request.session[SID_SESSION_KEY] = secrets.token_urlsafe(24)
    return sid


def auth_time(request: HttpRequest) -> datetime:
    """When the signed-in user of ``request`` last authenticated, to the second.

    Recorded at sign-in; for a session begun before this app was installed,
    the user's ``last_login`` (which may be a later sign-in elsewhere, so
    never earlier than the truth), else now.
    """
    recorded = request.session.get(AUTH_TIME_SESSION_KEY)
    if isinstance(recorded, int):
        return datetime.fromtimestamp(recorded, tz=timezone.utc)
    last_login = getattr(request.user, "last_login", None)
    moment = last_login or clock.now()
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class LoginSession:
    """What an authentication records of the browser session it happened in."""

    sid: str
    auth_time: datetime


def login_session(request: HttpRequest) -> LoginSession:
    """The signed-in user's ``sid`` and ``auth_time``."""
    return LoginSession(session_id(request), auth_time(request))
