from django.urls import path

from ..views import clients
from ..views.authorize import AuthorizeView
from ..views.authorized_apps import AuthorizedAppListView, WithdrawConsentView
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
    path("authorized-apps/", AuthorizedAppListView.as_view(), name="authorized_apps"),
    path("authorized-apps/<int:pk>/withdraw/", WithdrawConsentView.as_view(), name="withdraw_consent"),
    path("clients/", clients.ClientListView.as_view(), name="client_list"),
    path("clients/new/", clients.ClientCreateView.as_view(), name="client_create"),
    path("clients/<str:client_id>/", clients.ClientDetailView.as_view(), name="client_detail"),
    path("clients/<str:client_id>/edit/", clients.ClientUpdateView.as_view(), name="client_update"),
    path("clients/<str:client_id>/secret/", clients.ClientSecretView.as_view(), name="client_secret"),
    path("clients/<str:client_id>/delete/", clients.ClientDeleteView.as_view(), name="client_delete"),
]
