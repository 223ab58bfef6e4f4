from django.urls import path

from ..views.authorize import AuthorizeView
from ..views.device import DeviceAuthorizationView, DeviceVerificationView
from ..views.introspect import IntrospectView
from ..views.revoke import RevokeView
from ..views.token import TokenView

app_name = "oauth_provider"

urlpatterns = [
    path("authorize/", AuthorizeView.as_view(), name="authorize"),
    path("token/", TokenView.as_view(), name="token"),
    path("revoke/", RevokeView.as_view(), name="revoke"),
    path("introspect/", IntrospectView.as_view(), name="introspect"),
    path("device_authorization/", DeviceAuthorizationView.as_view(), name="device_authorization"),
    path("device/", DeviceVerificationView.as_view(), name="device"),
]
