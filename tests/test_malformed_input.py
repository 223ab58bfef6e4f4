"""Malformed input anywhere gets an error response, never a 500 (run on SQLite and PostgreSQL)."""

from urllib.parse import urlencode

import pytest

from tests.factories import ClientFactory
from tests.helpers import REDIRECT_URI

pytestmark = pytest.mark.django_db

# Already percent-encoded: NUL, bytes that are not UTF-8, a huge value, a
# right-to-left override, CR/LF header injection, SQL, a lone "%".
NASTY = ["%00", "%ff%fe", "a" * 5000, "%e2%80%ae", "%0d%0aSet-Cookie:x=1", "'%3B drop table x%3B--", "%"]


def query(params: dict[str, str], name: str, raw: str) -> str:
    return urlencode({k: v for k, v in params.items() if k != name}) + f"&{name}={raw}"


@pytest.mark.parametrize("raw", NASTY)
@pytest.mark.parametrize(
    "name", ["client_id", "redirect_uri", "scope", "state", "code_challenge", "response_type", "prompt"]
)
def test_authorize_answers_malformed_parameters(client, user, oauth_client, name, raw):
    client.force_login(user)
    params = {"client_id": oauth_client.client_id, "redirect_uri": REDIRECT_URI, "response_type": "code"}
    response = client.get("/o/authorize/?" + query({**params, "scope": "read", "state": "s"}, name, raw))
    assert response.status_code in (200, 302, 400)
    if response.status_code == 302:
        assert "\n" not in response["Location"]
        assert "\r" not in response["Location"]


@pytest.mark.parametrize("raw", NASTY)
@pytest.mark.parametrize("grant_type", ["authorization_code", "refresh_token"])
@pytest.mark.parametrize(
    "name", ["client_id", "client_secret", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"]
)
def test_token_endpoint_answers_malformed_parameters(api_client, grant_type, name, raw):
    app = ClientFactory()
    params = {"grant_type": grant_type, "client_id": app.client_id, "client_secret": app.secret}
    params |= {"code": "opac_x", "refresh_token": "oprt_x", "redirect_uri": REDIRECT_URI}
    response = api_client.post(
        "/o/token/", query(params, name, raw), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] in {"invalid_request", "invalid_client", "invalid_grant", "invalid_scope"}


@pytest.mark.parametrize(
    "header",
    ["Bearer \x00", "Bearer " + "a" * 10000, "Bearer opat_\x7f", "bearer  x", "Bearer", "Bearer a b"],
)
def test_protected_api_answers_malformed_bearer_headers(api_client, header):
    response = api_client.get("/api/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
