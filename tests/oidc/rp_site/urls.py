from django.urls import include, path

from .views import home

urlpatterns = [
    path("", home, name="home"),
    path("oidc/", include("mozilla_django_oidc.urls")),
]
