"""Routes that must sit at the site root (RFC 8615), included without a prefix."""

from django.urls import path

from ..views.metadata import MetadataView, OpenIDConfigurationView

urlpatterns = [
    path(".well-known/oauth-authorization-server", MetadataView.as_view(), name="oauth-authorization-server"),
    path(".well-known/openid-configuration", OpenIDConfigurationView.as_view(), name="openid-configuration"),
]
