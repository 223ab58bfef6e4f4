from django.urls import include, path

from .views import OpenView, ProtectedView

urlpatterns = [
    path("open/", OpenView.as_view()),
    path("protected/", ProtectedView.as_view()),
    path("o/", include("oauth_provider.urls")),
]
