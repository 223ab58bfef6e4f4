"""Revoking tokens."""

from __future__ import annotations

import uuid

from . import clock
from .models import AccessToken, RefreshToken


def revoke_family(family_id: uuid.UUID) -> None:
    """Revoke every token descended from one authorization.

    RFC 6749 §4.1.2: "If an authorization code is used more than once, the
    authorization server MUST deny the request and SHOULD revoke (when
    possible) all tokens previously issued based on that authorization code."
    """
    now = clock.now()
    for model in (AccessToken, RefreshToken):
        model.objects.filter(family_id=family_id, revoked_at__isnull=True).update(revoked_at=now)
