"""This resource server's own metadata (RFC 9728 §3), served where its 401
challenges point (``resource_metadata``, §5.1): an agent that knows only the
API's URL learns from it which authorization server to ask.

    urlpatterns += [path("", include("oauth_provider.remote_resource_server.urls"))]
"""

from __future__ import annotations

from urllib.parse import urlsplit

from rest_framework.request import Request
from rest_framework.response import Response

from ..resources import WELL_KNOWN, metadata_url
from ..settings import oauth_settings
from ..views.base import PublicDocumentView


class ProtectedResourceMetadataView(PublicDocumentView):
    """RFC 9728 §3: the document of ``RESOURCE_SERVER_RESOURCE`` at its
    well-known URL (§3.1), naming ``RESOURCE_SERVER_ISSUER`` as its
    authorization server; 404 at any other path, or when either is unset."""

    def get(self, request: Request, path: str = "") -> Response:
        identifier = oauth_settings.RESOURCE_SERVER_RESOURCE
        issuer = oauth_settings.RESOURCE_SERVER_ISSUER
        asked = WELL_KNOWN + ("/" + path if path else "")
        if not identifier or not issuer or urlsplit(metadata_url(identifier)).path != asked:
            return Response(status=404)
        return Response(
            {
                "resource": identifier,
                "authorization_servers": [issuer],
                # The DRF class reads only the Authorization header (RFC 6750 §2.1).
                "bearer_methods_supported": ["header"],
            }
        )
