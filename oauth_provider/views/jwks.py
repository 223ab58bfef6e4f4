"""The JWK Set of the keys that sign ID tokens and logout tokens (RFC 7517 §5),
at the ``jwks_uri`` of the metadata (OpenID Connect Discovery 1.0 §3)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response

from ..settings import oauth_settings
from ..signing_keys import jwks
from .base import PublicDocumentView


class JWKSView(PublicDocumentView):
    """Public members only, as ``application/json`` (RFC 7517 §8.5 also
    registers ``application/jwk-set+json``, but relying-party libraries ask
    for and expect plain JSON).

    Caches may keep it for half the key activation delay: a new key is
    published when ``rotatekeys`` makes it and signs only after
    ``OIDC_KEY_ACTIVATION_DELAY_SECONDS``, so a cache that obeys
    ``max-age`` has fetched it before its first token, with half the delay
    to spare for caches that refresh late. A retired key stays published
    until every token it signed has expired, so no cached copy ever lacks a
    key that a valid token needs.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The keys sign only OpenID Connect's tokens: not an OpenID Provider,
        # nothing to publish (nor a jwks_uri in the metadata).
        if not oauth_settings.OIDC_ENABLED:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: Request) -> Response:
        max_age = max(oauth_settings.OIDC_KEY_ACTIVATION_DELAY_SECONDS // 2, 0)
        return Response(jwks(), headers={"Cache-Control": f"public, max-age={max_age}"})
