"""HasScope and HasReadWriteScope: scopes on the host project's API (RFC 6750 §3.1)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from oauth_provider.rest_framework.authentication import BearerTokenAuthentication
from oauth_provider.rest_framework.permissions import HasReadWriteScope, HasScope

from .factories import AccessTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()


class ApiView(APIView):
    authentication_classes = [BearerTokenAuthentication]

    def get(self, request):
        return Response({"ok": True})

    post = put = delete = get


def view(permission, **attrs):
    """A view protected by ``permission``; ``attrs`` become class attributes."""
    cls = type("ProtectedView", (ApiView,), {"permission_classes": [permission], **attrs})
    return cls.as_view()


def call(view_func, method="get", scope=None, token=None):
    if token is None and scope is not None:
        token = AccessTokenFactory(scope=scope)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token.value}"} if token else {}
    return view_func(getattr(factory, method)("/", **headers))


def insufficient(scope, realm="api"):
    return f'Bearer realm="{realm}", error="insufficient_scope", scope="{scope}"'


def assert_insufficient_scope(response, scope):
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient(scope)
    assert response.data["detail"].code == "insufficient_scope"


# HasScope with a list


def test_has_scope_allows_token_with_every_required_scope():
    assert call(view(HasScope, required_scopes=["read", "write"]), scope="read write").status_code == 200


def test_has_scope_allows_token_with_more_scopes_than_required():
    assert call(view(HasScope, required_scopes=["read"]), scope="admin read write").status_code == 200


def test_has_scope_insufficient_scope_is_403_naming_the_required_scopes():
    response = call(view(HasScope, required_scopes=["read", "write"]), scope="read")
    assert_insufficient_scope(response, "read write")


def test_has_scope_without_token_is_401():
    response = call(view(HasScope, required_scopes=["read"]))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_has_scope_with_empty_list_allows_any_valid_token():
    assert call(view(HasScope, required_scopes=[]), scope="admin").status_code == 200


def test_has_scope_allows_client_only_token():
    token = AccessTokenFactory(user=None, scope="read")
    assert call(view(HasScope, required_scopes=["read"]), token=token).status_code == 200


def test_has_scope_does_not_match_scope_prefixes():
    response = call(view(HasScope, required_scopes=["read"]), scope="read:all reader")
    assert_insufficient_scope(response, "read")


# HasScope with a per-method dict

PER_METHOD = {"GET": ["read"], "POST": ["write"]}


def test_has_scope_dict_uses_the_request_method():
    protected = view(HasScope, required_scopes=PER_METHOD)
    assert call(protected, "get", scope="read").status_code == 200
    assert call(protected, "post", scope="write").status_code == 200


def test_has_scope_dict_insufficient_scope_names_the_method_scopes():
    protected = view(HasScope, required_scopes=PER_METHOD)
    assert_insufficient_scope(call(protected, "post", scope="read"), "write")
    assert_insufficient_scope(call(protected, "get", scope="write"), "read")


def test_has_scope_dict_refuses_method_missing_from_it():
    response = call(view(HasScope, required_scopes=PER_METHOD), "delete", scope="read write admin")
    assert response.status_code == 403


def test_has_scope_dict_without_token_is_401():
    assert call(view(HasScope, required_scopes=PER_METHOD), "delete").status_code == 401


# HasScope misconfigured


def test_has_scope_without_required_scopes_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="required_scopes"):
        call(view(HasScope), scope="read")


def test_has_scope_with_string_required_scopes_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured):
        call(view(HasScope, required_scopes="read"), scope="read")


def test_has_scope_dict_with_string_value_is_improperly_configured():
    with pytest.raises(ImproperlyConfigured):
        call(view(HasScope, required_scopes={"GET": "read"}), scope="read")


# HasReadWriteScope


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_read_write_safe_methods_need_read(method):
    protected = view(HasReadWriteScope)
    assert call(protected, method, scope="read").status_code == 200
    assert call(protected, method, scope="write").status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_read_write_other_methods_need_write(method):
    protected = view(HasReadWriteScope)
    assert call(protected, method, scope="write").status_code == 200
    assert_insufficient_scope(call(protected, method, scope="read"), "write")


def test_read_write_get_with_write_only_is_insufficient_read():
    assert_insufficient_scope(call(view(HasReadWriteScope), "get", scope="write"), "read")


def test_read_write_adds_the_views_required_scopes():
    protected = view(HasReadWriteScope, required_scopes=["admin"])
    assert call(protected, "get", scope="read admin").status_code == 200
    assert_insufficient_scope(call(protected, "get", scope="read"), "read admin")
    assert_insufficient_scope(call(protected, "post", scope="write"), "write admin")


def test_read_write_without_token_is_401():
    assert call(view(HasReadWriteScope), "post").status_code == 401


def test_read_write_scope_names_can_be_changed_by_subclassing():
    class HasNotesScope(HasReadWriteScope):
        read_scope = "admin"
        write_scope = "admin"

    protected = view(HasNotesScope)
    assert call(protected, "post", scope="admin").status_code == 200
    assert_insufficient_scope(call(protected, "get", scope="read"), "admin")


# Composition


def test_and_composition_needs_both():
    protected = view(HasScope & HasReadWriteScope, required_scopes=["admin"])
    assert call(protected, "get", scope="read admin").status_code == 200
    assert call(protected, "post", scope="write admin").status_code == 200
    assert_insufficient_scope(call(protected, "get", scope="read"), "admin")
    assert_insufficient_scope(call(protected, "get", scope="admin"), "read admin")


def test_and_composition_with_per_method_required_scopes():
    # HasScope reads the dict for the method; HasReadWriteScope must not take the
    # dict's keys ("GET", "POST") for scope names.
    protected = view(HasScope & HasReadWriteScope, required_scopes={"GET": ["admin"], "POST": ["admin"]})
    assert call(protected, "get", scope="read admin").status_code == 200
    assert call(protected, "post", scope="write admin").status_code == 200


def test_and_composition_without_token_is_401():
    response = call(view(HasScope & HasReadWriteScope, required_scopes=["admin"]))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_or_composition_admin_user_passes_without_scope():
    token = AccessTokenFactory(user=UserFactory(is_staff=True), scope="read")
    assert call(view(IsAdminUser | HasScope, required_scopes=["admin"]), token=token).status_code == 200


def test_or_composition_token_with_scope_passes_for_non_admin():
    response = call(view(IsAdminUser | HasScope, required_scopes=["admin"]), scope="admin")
    assert response.status_code == 200


def test_or_composition_neither_is_insufficient_scope():
    response = call(view(IsAdminUser | HasScope, required_scopes=["admin"]), scope="read")
    assert_insufficient_scope(response, "admin")


def test_or_composition_without_token_is_401():
    response = call(view(IsAdminUser | HasScope, required_scopes=["admin"]))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# Realm


@override_settings(OAUTH_PROVIDER={"RESOURCE_SERVER_REALM": "notes"})
def test_realm_setting_changes_insufficient_scope_header():
    response = call(view(HasScope, required_scopes=["read", "write"]), scope="read")
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("read write", realm="notes")


@override_settings(OAUTH_PROVIDER={"RESOURCE_SERVER_REALM": "notes"})
def test_realm_setting_changes_missing_token_header():
    response = call(view(HasScope, required_scopes=["read"]))
    assert response["WWW-Authenticate"] == 'Bearer realm="notes"'
