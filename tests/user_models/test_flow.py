"""The whole authorization code flow against whichever user model the settings name.

The main run collects this file with the default ``auth.User``;
``tests/test_user_models.py`` runs it again in a subprocess for each other
shape in this folder (a swapped ``AbstractUser``, an email-and-account-number
``AbstractBaseUser``, multi-table inheritance). Every test runs with the token
cache off and on.
"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext

from oauth_provider import client_auth, clock, token_lookup
from oauth_provider.compiled_lookup import CompiledLookup
from oauth_provider.crypto import hash_secret
from oauth_provider.grants.base import credential_lookup
from oauth_provider.models import AccessToken, AuthorizationCode, RefreshToken, Subject
from oauth_provider.subjects import subject_of
from tests.factories import PASSWORD, ClientFactory, SignInFactory
from tests.helpers import authorize_url, basic_auth, pkce_pair, post_token, redirect_params

pytestmark = pytest.mark.django_db

SHAPE = getattr(settings, "USER_MODEL_SHAPE", "default")
# Every lookup whose row holds a user, as the app uses them.
USER_LOOKUPS = {
    "bearer": token_lookup.PROTECTED,
    "access_token": token_lookup.TOKEN_TYPES["access_token"],
    "refresh_token": token_lookup.TOKEN_TYPES["refresh_token"],
    "code": credential_lookup(AuthorizationCode, ()),
    "refresh_grant": credential_lookup(RefreshToken, ("access_token",)),
}


@pytest.fixture(params=["no cache"])
def token_cache(request, settings):
    if request.param == "token cache":
        location = f"user-model-{SHAPE}-{request.node.name}"
        settings.CACHES = {
            **settings.CACHES,
            "tokens": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": location},
        }
        settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "TOKEN_CACHE": "tokens"}
    return request.param == "token cache"


@pytest.fixture
def account(db):
    model = get_user_model()
    name = "alice@example.com" if model.USERNAME_FIELD == "email" else "alice"
    return model._default_manager.create_user(**{model.USERNAME_FIELD: name}, password=PASSWORD)


@pytest.fixture
def app(db):
    return ClientFactory(allow_introspection=True)


def me(api_client, access_token):
    return api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def form(api_client, path, data, app):
    return api_client.post(
        path,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
    )


def password_read(queries) -> list[str]:
    """The statements that name the password column."""
    column = connection.ops.quote_name("password")
    return [query["sql"] for query in queries if column in query["sql"]]


def obtain_tokens(account, app, api_client) -> dict:
    """Authorize with PKCE as the signed-in account, consent, redeem the code."""
    browser = Browser()
    browser.force_login(account)
    verifier, challenge = pkce_pair()
    url = authorize_url(app, scope="read write", code_challenge=challenge, code_challenge_method="S256")
    consent = browser.get(url)
    assert consent.status_code == 200
    assert account.get_username() in consent.content.decode()
    code = redirect_params(browser.post(url, {"action": "allow"}))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": app.redirect_uris,
        "code_verifier": verifier,
    }
    with CaptureQueriesContext(connection) as exchange:
        response = post_token(api_client, data, HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret))
    assert response.status_code == 200, response.content
    assert password_read(exchange.captured_queries) == []
    return response.json()


def test_authorization_code_flow(account, app, api_client, token_cache, django_assert_num_queries):
    tokens = obtain_tokens(account, app, api_client)

    # The protected request: one query, none once cached; never the password.
    with CaptureQueriesContext(connection) as protected:
        response = me(api_client, tokens["access_token"])
    assert response.status_code == 200, response.content
    assert response.json() == {"username": account.get_username()}
    assert len(protected.captured_queries) == 1
    assert password_read(protected.captured_queries) == []
    with django_assert_num_queries(0 if token_cache else 1):
        assert me(api_client, tokens["access_token"]).json() == {"username": account.get_username()}

    # None of the token endpoints reads the password hash either.
    with CaptureQueriesContext(connection) as endpoints:
        # Refresh: the old access token stops working at once, the new one works.
        refreshed = post_token(
            api_client,
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            HTTP_AUTHORIZATION=basic_auth(app.client_id, app.secret),
        )
        assert refreshed.status_code == 200, refreshed.content
        new = refreshed.json()
        assert me(api_client, tokens["access_token"]).status_code == 401
        assert me(api_client, new["access_token"]).status_code == 200

        # Introspection names the account; revocation ends the token everywhere.
        body = form(api_client, "/o/introspect/", {"token": new["access_token"]}, app).json()
        assert body["active"] is True
        assert body["username"] == account.get_username()
        assert body["sub"] == Subject.objects.get(user=account).public_id
        assert form(api_client, "/o/revoke/", {"token": new["access_token"]}, app).status_code == 200
        assert me(api_client, new["access_token"]).status_code == 401
        assert form(api_client, "/o/introspect/", {"token": new["access_token"]}, app).json() == {
            "active": False
        }
        refresh_body = form(api_client, "/o/introspect/", {"token": new["refresh_token"]}, app).json()
        assert refresh_body["active"] is True
        assert refresh_body["username"] == account.get_username()
    assert password_read(endpoints.captured_queries) == []


def test_userinfo(account, app, api_client, token_cache, settings):
    """OpenID Connect UserInfo: the claims this user model has, a ``sub`` that
    is not its primary key, two queries (one with the token cache), never the password."""
    oidc = dict.fromkeys(["openid", "profile", "email"])
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "SCOPES": {**settings.OAUTH_PROVIDER["SCOPES"], **oidc},
    }
    expected = {"preferred_username": account.get_username()}
    if hasattr(account, "first_name"):  # an AbstractUser: names, and an e-mail field of its own
        account.first_name, account.last_name, account.email = "Alice", "Liddell", "alice@example.org"
        account.save()
        expected.update(name="Alice Liddell", given_name="Alice", family_name="Liddell")
    expected["email"] = account.email
    token, value = AccessToken.issue(
        client=app, user=account, scope="openid profile email", expires_at=clock.now() + timedelta(hours=1)
    )
    SignInFactory(user=account, client=app, family_id=token.family_id)  # as the authorization made it

    def userinfo():
        response = api_client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {value}")
        assert response.status_code == 200, response.content
        return response.json()

    first = userinfo()
    assert first == {"sub": Subject.objects.get(user=account).public_id, **expected}
    assert first["sub"] != str(account.pk)
    userinfo()  # cached now, if the cache is on
    with CaptureQueriesContext(connection) as queries:
        assert userinfo() == first
    assert len(queries.captured_queries) == (1 if token_cache else 2)
    assert password_read(queries.captured_queries) == []


def test_reused_code_is_refused_and_revokes_its_tokens(account, app, api_client, token_cache):
    browser = Browser()
    browser.force_login(account)
    verifier, challenge = pkce_pair()
    url = authorize_url(app, code_challenge=challenge, code_challenge_method="S256")
    code = redirect_params(browser.post(url, {"action": "allow"}))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris}
    data["code_verifier"] = verifier
    auth = basic_auth(app.client_id, app.secret)
    first = post_token(api_client, data, HTTP_AUTHORIZATION=auth).json()
    assert me(api_client, first["access_token"]).status_code == 200

    assert post_token(api_client, data, HTTP_AUTHORIZATION=auth).json()["error"] == "invalid_grant"
    assert me(api_client, first["access_token"]).status_code == 401


def test_lookups_are_precompiled_and_read_what_the_orm_reads(
    account, app, api_client, django_assert_num_queries
):
    """Each lookup's row equals the ORM's for the same columns, its user
    equals the account (primary key converted as the ORM converts it), and
    the password column is never part of it."""
    tokens = obtain_tokens(account, app, api_client)
    code = AuthorizationCode.objects.get()
    values = {
        "bearer": tokens["access_token"],
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "refresh_grant": tokens["refresh_token"],
    }
    for name, lookup in USER_LOOKUPS.items():
        assert lookup.statement("default").sql is not None, name  # every shape takes the fast path
        assert "password" not in lookup.layout.part("user").attnames, name
        token_hash = code.token_hash if name == "code" else hash_secret(values[name])
        row = lookup.fetch_row("default", token_hash)
        assert row == lookup.fetch_row_with_orm("default", token_hash), name
        found = lookup.build("default", row)
        assert found.user_id == account.pk, name
        assert found.user == account, name
        assert found.user.get_username() == account.get_username(), name
        assert "password" in found.user.get_deferred_fields(), name
    # The user's subject identifiers come along with introspection's lookups,
    # joined from the user's key (wherever it lives), and are cached on the user.
    public_id = subject_of(account).public_id
    lookup = token_lookup.TOKEN_TYPES["access_token"]
    row = lookup.fetch_row("default", hash_secret(values["access_token"]))
    assert row == lookup.fetch_row_with_orm("default", hash_secret(values["access_token"]))
    with django_assert_num_queries(0):
        assert lookup.build("default", row).user.oauth_subject.public_id == public_id
    assert client_auth.CLIENT.get(app.client_id) == app
    # The user model itself looked up: its key and columns may live in a parent's table.
    by_name = CompiledLookup(type(account), type(account).USERNAME_FIELD)
    row = by_name.fetch_row("default", account.get_username())
    assert row == by_name.fetch_row_with_orm("default", account.get_username())
    assert by_name.build("default", row).password == account.password
    client_only = AccessToken.issue(client=app, user=None, scope="read", expires_at=code.expires_at)[0]
    row = token_lookup.PROTECTED.fetch_row("default", client_only.token_hash)
    assert row == token_lookup.PROTECTED.fetch_row_with_orm("default", client_only.token_hash)
    assert token_lookup.PROTECTED.build("default", row).user is None
    assert AccessToken.objects.get(token_hash=hash_secret(tokens["access_token"])).user == account


def test_migrations_are_current():
    """The shape's own app (and every other) has the migrations its models need."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize(
    "model", ["client", "accesstoken", "refreshtoken", "authorizationcode", "deviceauthorization", "consent"]
)
def test_admin_finds_rows_by_the_accounts_username_and_user_link(account, app, api_client, model):
    obtain_tokens(account, app, api_client)
    app.owner = account
    app.save()
    model_class = get_user_model()
    admin = model_class._default_manager.create_user(
        **{model_class.USERNAME_FIELD: "admin@example.com" if SHAPE == "email" else "admin"},
        password=PASSWORD,
        is_staff=True,
        is_superuser=True,
    )
    browser = Browser()
    browser.force_login(admin)

    response = browser.get(f"/admin/oauth_provider/{model}/", {"q": account.get_username()})

    assert response.status_code == 200
    expected = 0 if model == "deviceauthorization" else 1
    assert response.context["cl"].result_count == expected
    if model != "client":
        # The user column's link: only this account's rows, whatever its primary key.
        by_user = browser.get(f"/admin/oauth_provider/{model}/", {"user__id__exact": str(account.pk)})
        assert by_user.status_code == 200
        assert by_user.context["cl"].result_count == expected
