"""Routes that must sit at the site root (RFC 8615), included without a prefix."""

from django.urls import path

from ..views.metadata import MetadataView, OpenIDConfigurationView, ProtectedResourceMetadataView

urlpatterns = [
    path(".well-known/oauth-authorization-server", MetadataView.as_view(), name="oauth-authorization-server"),
    path(".well-known/openid-configuration", OpenIDConfigurationView.as_view(), name="openid-configuration"),
    # RFC 9728 §3.1: the bare form, and the resource identifier's path appended.
    path(
        ".well-known/oauth-protected-resource",
        ProtectedResourceMetadataView.as_view(),
        name="oauth-protected-resource",
    ),
    path(
        ".well-known/oauth-protected-resource/<path:path>",
        ProtectedResourceMetadataView.as_view(),
        name="oauth-protected-resource-path",
    ),
]
