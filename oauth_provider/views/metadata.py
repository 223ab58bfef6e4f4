"""Authorization server metadata (RFC 8414 §3) and OpenID Provider
configuration (OpenID Connect Discovery 1.0 §4): one document, two
addresses; and the protected resources' metadata (RFC 9728 §3)."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from ..metadata import is_openid_provider, issuer, origin, server_metadata
from ..resources import protected_resource_metadata, resource_at
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


class ProtectedResourceMetadataView(PublicDocumentView):
    """RFC 9728 §3: ``/.well-known/oauth-protected-resource`` followed by the
    path of the resource identifier (§3.1), generated from ``RESOURCES``;
    the bare URL describes the resource at the site root. 404 for a path
    no declared resource has."""

    def get(self, request: Request, path: str = "") -> Response:
        identifier = resource_at("/" + path if path else "", origin(request.build_absolute_uri("/")))
        if identifier is None:
            return Response(status=404)
        return Response(protected_resource_metadata(identifier, issuer(request._request)))
