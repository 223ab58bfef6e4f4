"""System checks that walk the URLconf: scopes named by protected views
(E018 unknown, E019 missing or malformed) and the login page (W006, W007).

This module is also the URLconf the scope tests check (ROOT_URLCONF=__name__).
"""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_provider.checks import check_login_url, check_view_scopes
from oauth_provider.rest_framework.permissions import HasReadWriteScope, HasScope


class Protected(APIView):
    permission_classes = [HasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response({})

    def post(self, request):
        return Response({})


class Typo(Protected):
    required_scopes = ["raed"]


class MethodMapTypo(Protected):
    required_scopes = {"GET": ["read"], "POST": ["read", "wirte"]}


class Missing(Protected):
    required_scopes = None


class AString(Protected):
    required_scopes = "read"


class LowercaseMethod(Protected):
    required_scopes = {"get": ["read"]}


class Composed(Protected):
    permission_classes = [IsAuthenticated & ~IsAuthenticated | HasScope]
    required_scopes = ["nope"]


class ReadView(HasReadWriteScope):
    read_scope = "view"


class CustomReadWrite(Protected):
    permission_classes = [ReadView]
    required_scopes = None


class ReadWriteWithExtra(Protected):
    permission_classes = [HasReadWriteScope]
    required_scopes = {"GET": ["admin"]}


class ComputedScopes(HasScope):
    def required_scopes(self, request, view):
        return ["read"]


class Computed(Protected):
    permission_classes = [ComputedScopes]
    required_scopes = None


class Unprotected(APIView):
    permission_classes = [IsAuthenticated]
    required_scopes = ["not-checked-without-our-permissions"]


@api_view(["GET"])
@permission_classes([HasScope])
def function_view(request):
    return Response({})


urlpatterns = [
    path("ok/", Protected.as_view()),
    path("read-write/", Protected.as_view(permission_classes=[HasReadWriteScope], required_scopes=None)),
    path("computed/", Computed.as_view()),
    path("unprotected/", Unprotected.as_view()),
    path("typo/", Typo.as_view()),
    path("method-map/", MethodMapTypo.as_view()),
    path("missing/", Missing.as_view()),
    path("a-string/", AString.as_view()),
    path("lowercase/", LowercaseMethod.as_view()),
    path("composed/", Composed.as_view()),
    path("custom-read-write/", CustomReadWrite.as_view()),
    path("read-write-extra/", ReadWriteWithExtra.as_view()),
    path("as-view/", Protected.as_view(required_scopes=["bogus"])),
    path("nested/", include([path("inner/", Typo.as_view())])),
    path("function/", function_view),
]

SCOPES = {"read": "Read your data", "write": "Change your data"}


@pytest.fixture
def messages():
    with override_settings(ROOT_URLCONF=__name__, OAUTH_PROVIDER={"SCOPES": SCOPES}):
        return {(message.id, url_of(message)) for message in check_view_scopes()}


def url_of(message):
    return re.search(r" at (/\S*?):? ", message.msg)[1]


def reported(messages, url):
    return sorted(id_ for id_, where in messages if where == url)


def test_views_naming_configured_scopes_pass(messages):
    for url in ("/ok/", "/read-write/", "/computed/", "/unprotected/"):
        assert reported(messages, url) == []


@pytest.mark.parametrize(
    "url",
    [
        "/typo/",
        "/method-map/",
        "/composed/",
        "/custom-read-write/",
        "/read-write-extra/",
        "/as-view/",
        "/nested/inner/",
    ],
)
def test_e018_unknown_scope(messages, url):
    assert reported(messages, url) == ["oauth_provider.E018"]


@pytest.mark.parametrize("url", ["/missing/", "/a-string/", "/lowercase/", "/function/"])
def test_e019_missing_or_malformed_required_scopes(messages, url):
    assert reported(messages, url) == ["oauth_provider.E019"]


def test_every_reported_view_is_listed_once(messages):
    assert len(messages) == 11


@override_settings(ROOT_URLCONF=__name__, OAUTH_PROVIDER={"SCOPES": SCOPES})
def test_messages_name_the_view_the_url_and_the_scope():
    by_url = {url_of(message): message for message in check_view_scopes()}
    typo = by_url["/typo/"]
    assert typo.msg == (
        "tests.test_url_checks.Typo at /typo/ requires scopes that OAUTH_PROVIDER['SCOPES'] "
        "does not define: raed."
    )
    assert typo.hint == "Known scopes: read, write."
    assert "wirte" in by_url["/method-map/"].msg and "read," not in by_url["/method-map/"].msg
    assert (
        by_url["/missing/"].msg == "tests.test_url_checks.Missing at /missing/: required_scopes is missing."
    )
    assert by_url["/function/"].msg.startswith("tests.test_url_checks.function_view at /function/:")


@override_settings(ROOT_URLCONF=__name__, OAUTH_PROVIDER={"SCOPES": {**SCOPES, "raed": "Typo", "nope": "x"}})
def test_e018_clears_when_the_scope_is_configured():
    unknown = {url_of(message) for message in check_view_scopes() if message.id == "oauth_provider.E018"}
    assert unknown == {"/method-map/", "/custom-read-write/", "/read-write-extra/", "/as-view/"}


@override_settings(ROOT_URLCONF=__name__, OAUTH_PROVIDER={"SCOPES": SCOPES})
def test_manage_py_check_fails_on_a_typo():
    with pytest.raises(SystemCheckError, match=r"oauth_provider.E018.*Typo at /typo/"):
        call_command("check")


def test_example_project_views_pass():
    assert check_view_scopes() == []


# -- LOGIN_URL -----------------------------------------------------------------------------------

NO_TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]


def login_warnings(login_url, urlconf="tests.login_urls", **settings):
    with override_settings(LOGIN_URL=login_url, ROOT_URLCONF=urlconf, **settings):
        return [message.id for message in check_login_url()]


def test_example_project_login_url_passes():
    assert check_login_url() == []


@pytest.mark.parametrize("login_url", ["/accounts/login/", "login"])
def test_login_url_that_resolves_passes(login_url):
    assert login_warnings(login_url) == []


@pytest.mark.parametrize("login_url", ["/nowhere/", "no-such-name"])
def test_w006_login_url_matches_no_pattern(login_url):
    assert login_warnings(login_url) == ["oauth_provider.W006"]


def test_w006_in_a_fresh_project_without_a_login_page():
    # startproject's urls.py mounts only the admin; LOGIN_URL defaults to /accounts/login/.
    assert login_warnings("/accounts/login/", urlconf=__name__) == ["oauth_provider.W006"]


def test_login_page_on_another_host_is_not_checked():
    assert login_warnings("https://sso.example.com/login/", urlconf=__name__) == []


def test_w006_message_and_hint():
    with override_settings(LOGIN_URL="/nowhere/", ROOT_URLCONF=__name__):
        (warning,) = check_login_url()
    assert "LOGIN_URL ('/nowhere/') is no URL of this site" in warning.msg
    assert 'include("django.contrib.auth.urls")' in warning.hint
    assert "registration/login.html" in warning.hint


def test_w007_login_view_without_its_template():
    assert login_warnings("/accounts/login/", TEMPLATES=NO_TEMPLATES) == ["oauth_provider.W007"]


def test_w007_hint_asks_only_for_the_template():
    # LOGIN_URL is Django's LoginView already: telling to mount it again would mislead.
    with override_settings(
        LOGIN_URL="/accounts/login/", ROOT_URLCONF="tests.login_urls", TEMPLATES=NO_TEMPLATES
    ):
        (warning,) = check_login_url()
    assert warning.hint.startswith("Create registration/login.html in a folder of TEMPLATES' DIRS")
    assert "include(" not in warning.hint


def test_w007_reads_the_template_name_given_to_as_view():
    assert login_warnings("signin") == ["oauth_provider.W007"]


def test_login_url_under_force_script_name_passes():
    assert login_warnings("/prefix/accounts/login/", FORCE_SCRIPT_NAME="/prefix") == []
