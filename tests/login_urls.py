"""A URLconf with Django's login views, for the LOGIN_URL checks (tests/test_url_checks.py)."""

from django.contrib.auth.views import LoginView
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("signin/", LoginView.as_view(template_name="no/such/template.html"), name="signin"),
]
