"""The device authorization grant's server side (RFC 8628 §3.1-§3.3, §6.1).

A device asks for authorization (``start``) and gets a ``device_code`` to
poll with and a ``user_code`` for its user to type on the verification page,
where the signed-in user finds the request (``find_pending``) and decides it
(``approve`` / ``deny``). Both codes are stored only as hashes.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import clock, primary
from .consents import record_consent
from .crypto import hash_user_code
from .errors import TooManyRequests
from .models import Client, DeviceAuthorization
from .models.base import get_or_none
from .payload import MAX_LENGTHS
from .scopes import allowed_scopes, format_scope
from .settings import oauth_settings

# §6.1: "the base-20 character set "BCDFGHJKLMNPQRSTVWXZ"": consonants only,
# so codes read the same in any font, are easy to type and spell no words.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
# §6.1's example: 20^8 ≈ 2^34.5 codes, enough with rate limiting (§5.1).
USER_CODE_LENGTH = 8
USER_CODE_GROUP = 4
# user_code_hash is unique; a new random code is drawn on the rare collision.
USER_CODE_ATTEMPTS = 5

Status = DeviceAuthorization.Status


class UserCodeError(Exception):
    """A user code the verification page cannot act on; ``message`` is shown to the user."""

    message: str | Promise = _("This code is not valid.")


class MissingUserCode(UserCodeError):
    message = _("Enter the code shown on your device.")


class InvalidUserCode(UserCodeError):
    """A code that matches no authorization at all: the guesses rate limiting counts (§5.1)."""

    message = _("That code is not valid. Check the code shown on your device and try again.")


class ExpiredUserCode(UserCodeError):
    message = _("That code has expired. Start again on your device to get a new one.")


class DecidedUserCode(UserCodeError):
    message = _("That code has already been used. Start again on your device if you need a new one.")


def generate_user_code() -> str:
    """A new random user code, in normalized form (§6.1)."""
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def format_user_code(code: str) -> str:
    """How a normalized code is shown to people: ``XXXX-XXXX`` (§6.1 suggests grouping with a dash)."""
    return f"{code[:USER_CODE_GROUP]}-{code[USER_CODE_GROUP:]}"


def normalize_user_code(value: str) -> str:
    """The normalized form of what a person typed, or ``InvalidUserCode``.

    §6.1: "the characters of the user code should be case insensitive" and
    "the dash [...] should be ignored". Whitespace is dropped too; any other
    character (including look-alikes from outside ASCII) makes the code invalid.
    """
    # Longer input is not worth normalizing (payload.MAX_LENGTHS).
    if len(value) > MAX_LENGTHS["user_code"]:
        raise InvalidUserCode
    code = "".join(value.split()).replace("-", "")
    if not code.isascii():
        raise InvalidUserCode
    code = code.upper()
    if len(code) != USER_CODE_LENGTH or any(char not in USER_CODE_ALPHABET for char in code):
        raise InvalidUserCode
    return code


TOO_MANY_PENDING = _("This client has too many device authorizations waiting. Try again later.")


@primary.atomic(DeviceAuthorization)
def start(
    client: Client, scopes: list[str], resources: list[str], *, verification_uri: str
) -> dict[str, Any]:
    """Create a device authorization for ``scopes`` and the audience
    ``resources`` (RFC 8707) and return the §3.2 response body.

    Raises ``TooManyRequests`` when the client already has
    ``DEVICE_AUTHORIZATION_MAX_PENDING`` undecided, unexpired ones.
    """
    now = clock.now()
    lifetime = oauth_settings.DEVICE_CODE_EXPIRE_SECONDS
    interval = oauth_settings.DEVICE_CODE_INTERVAL
    check_pending_capacity(client, now)
    for attempt in range(USER_CODE_ATTEMPTS):
        user_code = generate_user_code()
        try:
            # A savepoint, so a collision leaves the transaction usable.
            with primary.atomic(DeviceAuthorization):
                _authorization, device_code = DeviceAuthorization.issue(
                    client=client,
                    scope=format_scope(scopes),
                    resources=format_scope(resources),
                    user_code_hash=hash_user_code(user_code),
                    interval=interval,
                    created_at=now,
                    expires_at=now + timedelta(seconds=lifetime),
                )
            break
        except IntegrityError:
            if attempt == USER_CODE_ATTEMPTS - 1:
                raise
    shown = format_user_code(user_code)
    return {
        "device_code": device_code,
        "user_code": shown,
        "verification_uri": verification_uri,
        # §3.3.1: lets the device show a QR code or link that carries the code.
        "verification_uri_complete": f"{verification_uri}?user_code={shown}",
        "expires_in": lifetime,
        "interval": interval,
    }


def check_pending_capacity(client: Client, now: datetime) -> None:
    """Refuse a new device authorization for a client whose pending ones are at the cap.

    Anyone can start device authorizations for a public client, so without a
    cap the table could be filled. The count is the database's, not a cache
    counter: pending rows stop counting when decided or expired with nothing
    to keep in step. The client's row is locked (``SELECT … FOR UPDATE``),
    so on PostgreSQL concurrent starts for one client count one after the
    other and the cap holds under concurrency (SQLite takes no row locks).
    Must run inside the transaction that creates the row.
    ``Retry-After`` is the time until the oldest pending one expires.
    """
    list(Client.objects.select_for_update().filter(pk=client.pk).values_list("pk", flat=True))
    cap = oauth_settings.DEVICE_AUTHORIZATION_MAX_PENDING
    pending = DeviceAuthorization.objects.using(primary.alias(DeviceAuthorization)).filter(
        client=client, status=Status.PENDING, used_at__isnull=True, expires_at__gt=now
    )
    # Counting at most `cap` rows bounds the work whatever the table holds.
    if pending[:cap].count() < cap:
        return
    first_expiry = pending.order_by("expires_at").values_list("expires_at", flat=True)[0]
    raise TooManyRequests(max(1, math.ceil((first_expiry - now).total_seconds())), TOO_MANY_PENDING)


def find_pending(user_code: str) -> DeviceAuthorization:
    """The undecided, unexpired authorization a person's ``user_code`` names.

    Raises a ``UserCodeError`` saying why there is none.
    """
    if not user_code.strip():
        raise MissingUserCode
    code = normalize_user_code(user_code)
    # From the primary: the code was shown a moment ago, and the user's answer is written on what this reads.
    rows = DeviceAuthorization.objects.using(primary.alias(DeviceAuthorization))
    authorization = get_or_none(rows.filter(user_code_hash=hash_user_code(code)).select_related("client"))
    if authorization is None or not _may_be_approved(authorization):
        raise InvalidUserCode
    _check_pending(authorization)
    return authorization


def _may_be_approved(authorization: DeviceAuthorization) -> bool:
    """Whether a user may still approve the request: its client takes new
    authorizations (not under review), and every scope it asked for is still
    one the client may have (an admin may have taken a privileged one away)."""
    client = authorization.client
    return client.accepts_new_authorizations and set(authorization.scopes) <= set(allowed_scopes(client))


def _check_pending(authorization: DeviceAuthorization) -> None:
    if authorization.status != Status.PENDING or authorization.used_at is not None:
        raise DecidedUserCode
    if authorization.is_expired():
        raise ExpiredUserCode


@primary.atomic(DeviceAuthorization)
def approve(authorization: DeviceAuthorization, user: AbstractBaseUser) -> None:
    """Record the user's approval and their consent (§3.3); once only."""
    now = _decide(authorization, user, Status.APPROVED)
    record_consent(user, authorization.client, authorization.scopes, authorization.audience, now=now)


def deny(authorization: DeviceAuthorization, user: AbstractBaseUser) -> None:
    """Record the user's denial (§3.3); the device's next poll gets access_denied."""
    _decide(authorization, user, Status.DENIED)


def _decide(authorization: DeviceAuthorization, user: AbstractBaseUser, status: str) -> datetime:
    """Move a pending authorization to ``status``; the database decides, so a
    request is decided once even when two pages are submitted at once."""
    now = clock.now()
    decided = DeviceAuthorization.objects.filter(
        pk=authorization.pk, status=Status.PENDING, used_at__isnull=True, expires_at__gt=now
    ).update(status=status, user=user, decided_at=now)
    if not decided:
        fields = ["status", "used_at", "expires_at"]
        authorization.refresh_from_db(using=primary.alias(DeviceAuthorization), fields=fields)
        _check_pending(authorization)
        raise DecidedUserCode
    authorization.status, authorization.user, authorization.decided_at = status, user, now
    return now
