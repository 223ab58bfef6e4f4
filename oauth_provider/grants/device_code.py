"""Device authorization grant: the device's token requests (RFC 8628 §3.4-§3.5)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from .. import clock, primary
from ..errors import AccessDenied, AuthorizationPending, ExpiredToken, InvalidGrant, SlowDown
from ..issuance import TokenResponse, issue_tokens
from ..models import DeviceAuthorization
from ..payload import TokenRequest
from ..resources import narrow_resources
from ..settings import DEVICE_CODE
from .base import Grant

Status = DeviceAuthorization.Status

USED = _("The device code was already exchanged for tokens.")
# §3.5 slow_down: "the interval MUST be increased by 5 seconds for this and all subsequent requests."
SLOW_DOWN_SECONDS = 5


class DeviceCodeGrant(Grant):
    grant_type = DEVICE_CODE
    parameters = frozenset({"device_code"})

    def handle(self, request: TokenRequest) -> TokenResponse:
        # §3.4: the device_code must have been issued to this client; someone
        # else's is answered like an unknown one.
        authorization = self.credential(DeviceAuthorization, request, "device_code")
        # Exchanged already: whatever its age, the code is spent. Unlike a
        # replayed authorization code this revokes nothing: the device code
        # never leaves the device, and a device retrying a lost response must
        # not lose the tokens it already holds.
        if authorization.used_at is not None:
            raise InvalidGrant(USED)
        if authorization.is_expired():
            raise ExpiredToken
        now = clock.now()
        self.pace(authorization, now)
        if authorization.status == Status.PENDING:
            raise AuthorizationPending
        if authorization.status == Status.DENIED:
            raise AccessDenied
        return self.redeem(request, authorization, now)

    def pace(self, authorization: DeviceAuthorization, now: datetime) -> None:
        """Answer ``slow_down`` to a device polling sooner than ``interval``
        after its last poll (§3.5), and record pending polls."""
        rows = DeviceAuthorization.objects.filter(pk=authorization.pk)
        last = authorization.last_polled_at
        too_soon = last is not None and now < last + timedelta(seconds=authorization.interval)
        if not too_soon and authorization.status == Status.PENDING:
            # Compare-and-set on the poll we read: of concurrent polls only
            # one is on time, the others polled too fast.
            if rows.filter(last_polled_at=last).update(last_polled_at=now):
                return
            too_soon = True
        if too_soon:
            # F(): concurrent slow_downs each add their 5 seconds.
            rows.update(interval=F("interval") + SLOW_DOWN_SECONDS, last_polled_at=now)
            raise SlowDown
        # Decided authorizations answer at once; nothing needs writing.

    def redeem(
        self, request: TokenRequest, authorization: DeviceAuthorization, now: datetime
    ) -> TokenResponse:
        """Tokens for an approved authorization, exactly once (§3.5)."""
        user = authorization.user
        if user is None or not user.is_active:
            raise InvalidGrant
        resources = narrow_resources(request.resources, authorization.audience, authorization.scopes)
        # Single use, decided by the database: of concurrent polls only one
        # UPDATE finds used_at still NULL.
        with primary.atomic(DeviceAuthorization):
            claimed = DeviceAuthorization.objects.filter(
                pk=authorization.pk, status=Status.APPROVED, used_at__isnull=True
            ).update(used_at=now)
            if claimed:
                return issue_tokens(
                    client=request.client,
                    user=user,
                    scopes=authorization.scopes,
                    resources=resources,
                    refresh_resources=authorization.audience or None,
                    grant_type=self.grant_type,
                    family_id=authorization.family_id,
                    issuer=self.issuer(request),
                )
        raise InvalidGrant(USED)
