"""Routes of a resource server of another issuer, included at the site root (RFC 8615)."""

from django.urls import path

from .metadata import ProtectedResourceMetadataView

urlpatterns = [
    # RFC 9728 §3.1: the bare form, and the resource identifier's path appended.
    path(".well-known/oauth-protected-resource", ProtectedResourceMetadataView.as_view()),
    path(".well-known/oauth-protected-resource/<path:path>", ProtectedResourceMetadataView.as_view()),
]
