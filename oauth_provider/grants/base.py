"""The small base every grant type builds on (RFC 6749 §4)."""

from __future__ import annotations

from typing import ClassVar

from ..issuance import TokenResponse
from ..payload import TokenRequest


class Grant:
    """One grant type of the token endpoint.

    ``grant_type`` is the RFC name; ``parameters`` allow-lists the form
    parameters the grant reads (client authentication parameters are added by
    the token endpoint). Everything else in the request is dropped.
    """

    grant_type: ClassVar[str]
    parameters: ClassVar[frozenset[str]] = frozenset()

    def handle(self, request: TokenRequest) -> TokenResponse:
        raise NotImplementedError("Grant subclasses must implement handle(request).")
