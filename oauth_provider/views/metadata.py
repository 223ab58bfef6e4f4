"""Authorization server metadata endpoint (RFC 8414 §3)."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from ..metadata import server_metadata
from .base import ProtocolView


class MetadataView(ProtocolView):
    def get(self, request: Request) -> Response:
        return Response(server_metadata(request._request))
