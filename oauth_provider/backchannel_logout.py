"""Back-Channel Logout 1.0: telling clients, server to server, that a user's
session with them has ended.

Sessions end these ways here:

* The user signs out of a browser session: any ``django.contrib.auth.logout``
  (the logout endpoint, the site's own logout view, "not you?"), through
  Django's ``user_logged_out`` signal. The sign-ins made in that session
  (``SignIn`` rows with its ``sid``, or an earlier one of the same user in
  it: ``login_sessions.session_sids``) end, and so do the tokens issued from
  them, unless they were granted ``offline_access`` (§2.7: "Refresh tokens
  issued without the offline_access property to a session being logged out
  SHOULD be revoked. Refresh tokens issued with the offline_access property
  normally SHOULD NOT be revoked."). Their codes not yet redeemed end too.
  An ``offline_access`` refresh token that survives still gets access
  tokens, but no more ID tokens (``id_tokens.add_to_token_response``).
* Django replaces a signed-in browser session without a logout: another
  user signs in on the same browser (``login()`` flushes the session
  without ``user_logged_out``), the session's user changed their password
  elsewhere (Django flushes the session on its next request), or the site
  flushes it. With ``oauth_provider.middleware.LoginSessionMiddleware``
  installed, the session's sign-ins end as on a sign-out
  (``session_flushed``); without it, they are not told.
* The user (or an admin) withdraws a client's consent
  (``consents.withdraw_consent``, which revokes every token the client
  holds): the user's sign-ins with that client end.
* The user's password changes (``password_change``, which revokes every
  token the user's clients hold): all the user's sign-ins end.

A session that simply expires, or that is deleted from the session store
(``clearsessions``, an admin), ends unseen: its clients are not told, and
its tokens run their course.

Each client with a ``backchannel_logout_uri`` among the ended sign-ins is
then sent one logout token (§2.4) per session: a JWT signed like its ID
tokens, ``typ`` ``logout+jwt``, with ``iss``, ``aud``, ``iat``, ``exp``,
``jti``, ``events``, ``sub`` and ``sid``, and never a ``nonce``.

Delivery (§2.5) never holds up or fails the sign-out: tokens are signed in
the request, and posted after the transaction commits by a few background
threads, each POST with a ``BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS`` timeout and
up to ``BACKCHANNEL_LOGOUT_RETRIES`` retries (on network errors and 5xx
answers), no redirect followed, to the URI an admin approved (a changed one
under review is not used yet) and, for a client registered through
self-service, to a public address only (``outbound``). A failure is logged
at WARNING, without the token, and sent as ``backchannel_logout_failed``. Deliveries live in the
process's memory: a process exiting normally makes those still queued
first, and one that is killed loses them.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from http.client import HTTPException
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_out
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest

from . import clock, metadata, outbound, primary, signing_keys
from .login_sessions import forget_sids
from .models import AuthorizationCode, Client, RefreshToken, SignIn
from .revocation import RevocationReason, revoke_families
from .settings import oauth_settings
from .signals import backchannel_logout_failed, backchannel_logout_sent

logger = logging.getLogger(__name__)

# §2.4: "A Logout Token MUST contain an events Claim whose value is a JSON
# object containing the member name http://schemas.openid.net/event/backchannel-logout".
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# §2.4 recommends typing logout tokens explicitly, so that no other JWT
# signed with the same keys (an ID token) passes for one.
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - a media type, not a secret
# Core §11: the scope asking for tokens that outlive the user's session.
OFFLINE_ACCESS = "offline_access"

# Delivery is network waiting, not work: a few threads are plenty, and they
# bound what a burst of sign-outs (an admin withdrawing many consents) costs.
MAX_WORKERS = 4
# Deliveries waiting or running at once; beyond this, new ones are dropped
# (and logged) rather than queued without end behind dead endpoints.
MAX_PENDING = 1000
# Wait before the first retry; doubled before each next one.
BACKOFF_SECONDS = 0.5
USER_AGENT = "oauth_provider back-channel logout"


@dataclass(frozen=True)
class Delivery:
    """One logout token to post to one client."""

    client_id: str
    uri: str
    sid: str
    logout_token: str = field(repr=False)
    # outbound.private_addresses_allowed of the client.
    private_allowed: bool = False


@receiver(user_logged_out, dispatch_uid="oauth_provider.backchannel_logout")
def _signed_out(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: Any
) -> None:
    if request is not None and user is not None and hasattr(request, "session"):
        _session_ended(request, user.pk)


def session_flushed(request: HttpRequest) -> None:
    """End the sign-ins of the signed-in session ``request`` is about to
    flush without a logout (``LoginSessionMiddleware``); nothing if it is
    anonymous or a logout already ended them."""
    user_key = request.session.get(SESSION_KEY)
    if user_key is None:
        return
    try:
        user_id = get_user_model()._meta.pk.to_python(user_key)
    except ValidationError:
        return  # not a key of the user model now: no sign-in of it to end
    _session_ended(request, user_id)


def _session_ended(request: HttpRequest, user_id: Any) -> None:
    # Read (and forgotten) before Django flushes the session, which it does next.
    sids = forget_sids(request.session)
    if sids and oauth_settings.OIDC_ENABLED:
        sign_ins = SignIn.objects.filter(user_id=user_id, sid__in=sids)
        end_sign_ins(sign_ins, issuer=metadata.issuer(request), revoke=True)


def end_sign_ins(sign_ins: QuerySet[SignIn], *, issuer: str | None, revoke: bool) -> list[SignIn]:
    """End these sign-ins (those not ended already) and queue a logout token
    for each of their clients' sessions; with ``revoke``, also revoke the
    tokens issued from them, unless granted ``offline_access``. Return the
    sign-ins ended.

    Never raises: whatever fails is logged and undone, and the sign-out or
    withdrawal that called it goes on. Without ``issuer`` (no request, no
    ``ISSUER`` setting) no token can say who sent it, and none is sent.
    """
    try:
        with primary.atomic(SignIn):
            return _end(sign_ins, issuer=issuer, revoke=revoke)
    except Exception:
        logger.exception("Ending sign-ins for back-channel logout failed")
        return []


def _end(sign_ins: QuerySet[SignIn], *, issuer: str | None, revoke: bool) -> list[SignIn]:
    # Locked, then ended: of concurrent sign-outs of one session, one ends
    # each sign-in and tells its client.
    pks = list(sign_ins.filter(ended_at__isnull=True).select_for_update().values_list("pk", flat=True))
    if not pks:
        return []
    SignIn.objects.filter(pk__in=pks).update(ended_at=clock.now())
    ended = list(SignIn.objects.using(primary.alias(SignIn)).filter(pk__in=pks).select_related("client"))
    # A code not redeemed yet would still start tokens and an ID token of the
    # ended session: it ends, whatever its scope (no refresh token exists yet
    # that offline_access could keep). A redemption in progress holds the
    # code's row, so this waits for it, and then finds its tokens to revoke.
    AuthorizationCode.objects.filter(family_id__in={sign_in.family_id for sign_in in ended}).end(
        AuthorizationCode.EndReason.LOGGED_OUT
    )
    if revoke:
        _revoke_session_tokens(ended)
    if issuer is None:
        logger.warning("Back-channel logout tokens not sent: set OAUTH_PROVIDER['ISSUER'].")
        return ended
    deliveries = []
    sessions = {(sign_in.client_id, sign_in.sid): sign_in for sign_in in ended}
    for sign_in in sessions.values():
        client = sign_in.client
        uri = client.approved_value("backchannel_logout_uri")
        if not uri or not client.is_active:
            continue
        try:
            token = logout_token(client, sub=sign_in.subject, sid=sign_in.sid, issuer=issuer)
        except Exception:
            # One client's key trouble (no key for its algorithm in
            # OIDC_SIGNING_KEYS) keeps neither the others uninformed nor the
            # sign-ins open.
            logger.exception("Signing a logout token for client %s failed", client.client_id)
            continue
        deliveries.append(
            Delivery(client.client_id, uri, sign_in.sid, token, outbound.private_addresses_allowed(client))
        )
    if deliveries:
        transaction.on_commit(partial(deliver, deliveries), using=primary.alias(SignIn), robust=True)
    return ended


def _revoke_session_tokens(ended: list[SignIn]) -> None:
    families = {sign_in.family_id for sign_in in ended}
    # Refresh tokens locked first, as end_grants does: a rotation in progress
    # either committed (its new tokens are revoked below) or finds its token revoked.
    live = RefreshToken.objects.select_for_update().filter(family_id__in=families, revoked_at__isnull=True)
    scopes = live.values_list("family_id", "scope")
    offline = {family_id for family_id, scope in scopes if OFFLINE_ACCESS in scope.split()}
    revoke_families(families - offline, reason=RevocationReason.LOGGED_OUT)


def logout_token(client: Client, *, sub: str, sid: str, issuer: str) -> str:
    """A logout token for ``client`` (§2.4), signed with its ID token algorithm."""
    now = int(clock.now().timestamp())
    claims = {
        "iss": issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + signing_keys.LOGOUT_TOKEN_EXPIRE_SECONDS,
        "jti": secrets.token_urlsafe(24),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        "sub": sub,
        "sid": sid,
    }
    return signing_keys.sign(claims, client.id_token_signed_response_alg, typ=LOGOUT_TOKEN_TYPE)


# -- Delivery ------------------------------------------------------------------------------------

_lock = threading.RLock()
_executor: ThreadPoolExecutor | None = None
_pending: set[Future[bool]] = set()


def _forget_threads() -> None:
    # A forked process (a pre-forking server) has none of its parent's threads.
    global _executor, _lock
    _executor, _lock = None, threading.RLock()
    _pending.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_threads)


def deliver(deliveries: Iterable[Delivery]) -> None:
    """Queue each delivery for a background thread; returns at once."""
    global _executor
    timeout = oauth_settings.BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS
    retries = oauth_settings.BACKCHANNEL_LOGOUT_RETRIES
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="backchannel-logout")
        for delivery in deliveries:
            if len(_pending) >= MAX_PENDING:
                _failed(delivery, attempts=0, reason="too many deliveries pending")
                continue
            future = _executor.submit(_post, delivery, timeout, retries)
            _pending.add(future)
            future.add_done_callback(_done)


def _done(future: Future[bool]) -> None:
    with _lock:
        _pending.discard(future)


def flush(timeout: float | None = None) -> bool:
    """Wait until every queued delivery has been made or has failed, at most
    ``timeout`` seconds; return whether none is left. For tests, and for a
    process that wants to finish its deliveries before it exits."""
    with _lock:
        pending = list(_pending)
    return not wait(pending, timeout=timeout).not_done


def _post(delivery: Delivery, timeout: float, retries: int) -> bool:
    """POST the logout token (§2.5), retrying network errors and 5xx answers."""
    body = urlencode({"logout_token": delivery.logout_token}).encode("ascii")
    attempts = 0
    try:
        while True:
            attempts += 1
            reason, retry = _attempt(delivery, body, timeout)
            if reason is None:
                _send(backchannel_logout_sent, delivery, attempts=attempts)
                return True
            if not retry or attempts > retries:
                _failed(delivery, attempts=attempts, reason=reason)
                return False
            time.sleep(BACKOFF_SECONDS * 2 ** (attempts - 1))
    finally:
        # Signal receivers may have used the database, and no request cycle
        # closes this thread's connections.
        connections.close_all()


def _attempt(delivery: Delivery, body: bytes, timeout: float) -> tuple[str | None, bool]:
    """One POST: ``(None, False)`` on success, else why and whether to retry.

    No redirect is followed (``outbound.opener``): a 3xx answer is a failure
    (§2.5 expects 200), and the logout token goes to the registered URI and
    nowhere else.
    """
    if urlsplit(delivery.uri).scheme not in ("http", "https"):
        return "not an http(s) URI", False
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        delivery.uri,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
    )
    opener = outbound.opener(private_allowed=delivery.private_allowed)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        status = error.code
    except urllib.error.URLError as error:
        # Asking a host that is not public again changes nothing.
        return str(error.reason), not isinstance(error.reason, outbound.NonPublicAddress)
    except (OSError, HTTPException) as error:
        # Timeouts and connections cut while reading the answer.
        return str(error) or type(error).__name__, True
    if 200 <= status < 300:
        return None, False
    # §2.8: 400 means the client refused the token; asking again changes nothing.
    return f"HTTP {status}", status >= 500


def _failed(delivery: Delivery, *, attempts: int, reason: str) -> None:
    logger.warning(
        "Back-channel logout to client %s at %s failed after %d attempt(s): %s",
        delivery.client_id,
        delivery.uri,
        attempts,
        reason,
    )
    _send(backchannel_logout_failed, delivery, attempts=attempts, reason=reason)


def _send(signal: Any, delivery: Delivery, **kwargs: Any) -> None:
    # In the delivery thread: a receiver's error is logged, and stops nothing.
    for receiver_function, response in signal.send_robust(
        sender=Client, client_id=delivery.client_id, sid=delivery.sid, **kwargs
    ):
        if isinstance(response, Exception):
            logger.error(
                "Receiver %r of a back-channel logout signal failed", receiver_function, exc_info=response
            )
