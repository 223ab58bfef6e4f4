from django.urls import path, register_converter
from django.urls.converters import StringConverter

from ..views import clients
from ..views.authorize import AuthorizeView
from ..views.authorized_apps import AuthorizedAppListView, WithdrawConsentView
from ..views.device import DeviceAuthorizationView, DeviceVerificationView
from ..views.introspect import IntrospectView
from ..views.jwks import JWKSView
from ..views.logout import LogoutView
from ..views.registration import RegistrationClientView, RegistrationView
from ..views.revoke import RevokeView
from ..views.token import TokenView
from ..views.userinfo import UserInfoView


class ClientIdConverter(StringConverter):
    """A client_id in a path: ``<str:>`` without control characters.

    No client_id holds a control character (``payload.INVALID_CHARACTERS``
    refuses them in parameters too), and PostgreSQL refuses NUL in a query
    outright: such a path is a 404 before any lookup rather than a 500.
    """

    regex = r"[^/\x00-\x1f\x7f]+"


register_converter(ClientIdConverter, "oauth_client_id")

app_name = "oauth_provider"

urlpatterns = [
    path("authorize/", AuthorizeView.as_view(), name="authorize"),
    path("token/", TokenView.as_view(), name="token"),
    path("revoke/", RevokeView.as_view(), name="revoke"),
    path("introspect/", IntrospectView.as_view(), name="introspect"),
    path("device_authorization/", DeviceAuthorizationView.as_view(), name="device_authorization"),
    path("device/", DeviceVerificationView.as_view(), name="device"),
    path("userinfo/", UserInfoView.as_view(), name="userinfo"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("jwks/", JWKSView.as_view(), name="jwks"),
    path("register/", RegistrationView.as_view(), name="register"),
    path(
        "register/<oauth_client_id:client_id>/",
        RegistrationClientView.as_view(),
        name="registration_client",
    ),
    path("authorized-apps/", AuthorizedAppListView.as_view(), name="authorized_apps"),
    path("authorized-apps/<int:pk>/withdraw/", WithdrawConsentView.as_view(), name="withdraw_consent"),
    path("clients/", clients.ClientListView.as_view(), name="client_list"),
    path("clients/new/", clients.ClientCreateView.as_view(), name="client_create"),
    path("clients/<oauth_client_id:client_id>/", clients.ClientDetailView.as_view(), name="client_detail"),
    path(
        "clients/<oauth_client_id:client_id>/edit/", clients.ClientUpdateView.as_view(), name="client_update"
    ),
    path(
        "clients/<oauth_client_id:client_id>/secret/",
        clients.ClientSecretView.as_view(),
        name="client_secret",
    ),
    path(
        "clients/<oauth_client_id:client_id>/delete/",
        clients.ClientDeleteView.as_view(),
        name="client_delete",
    ),
]
