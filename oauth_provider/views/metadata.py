"""Authorization server metadata (RFC 8414 §3) and OpenID Provider
configuration (OpenID Connect Discovery 1.0 §4): one document, two addresses."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from ..metadata import is_openid_provider, server_metadata
from .base import PublicDocumentView


class MetadataView(PublicDocumentView):
    def get(self, request: Request) -> Response:
        return Response(server_metadata(request._request))


class OpenIDConfigurationView(PublicDocumentView):
    """Discovery 1.0 §4: ``/.well-known/openid-configuration``; 404 while the
    server is no OpenID Provider (``OIDC_ENABLED`` off or no ``openid`` scope)."""

    def get(self, request: Request) -> Response:
        if not is_openid_provider():
            return Response(status=404)
        return Response(server_metadata(request._request))
