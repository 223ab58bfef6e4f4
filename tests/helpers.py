"""Small builders shared by the endpoint and grant tests."""

import base64
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from oauth_provider.pkce import s256

REDIRECT_URI = "https://client.example.com/callback"


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def authorize_url(client, **params) -> str:
    """/o/authorize/ for ``client`` with sensible defaults; pass None to omit a parameter."""
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
        "state": "af0ifjsldkj",
        **params,
    }
    return "/o/authorize/?" + urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)


def query_params(url: str) -> dict[str, str]:
    """The query parameters of ``url`` (first value of each)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def redirect_params(response) -> dict[str, str]:
    """The query parameters of a redirect response's Location."""
    assert response.status_code == 302, response.status_code
    return query_params(response["Location"])


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def post_token(api_client, data, **headers):
    """POST form-encoded ``data`` (a dict, or a list of pairs for repeats) to the token endpoint."""
    return api_client.post(
        "/o/token/",
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )
