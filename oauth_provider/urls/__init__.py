from django.urls import path

from ..views.authorize import AuthorizeView
from ..views.token import TokenView

app_name = "oauth_provider"

urlpatterns = [
    path("authorize/", AuthorizeView.as_view(), name="authorize"),
    path("token/", TokenView.as_view(), name="token"),
]
