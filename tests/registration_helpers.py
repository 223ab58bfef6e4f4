"""Builders shared by the registration tests (RFC 7591, RFC 7592); their fixtures are in conftest."""

import json

REGISTER_URL = "/o/register/"
REDIRECT_URI = "https://app.example.org/callback"


def metadata(**members):
    """A valid registration request body (RFC 7591 §2); None drops a member."""
    body = {
        "client_name": "Registered App",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        **members,
    }
    return {name: value for name, value in body.items() if value is not None}


def post_json(api_client, body, url=REGISTER_URL, **headers):
    """POST ``body`` (a dict, or bytes sent as they are) as application/json."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api_client.generic(
        "POST", url, data, content_type=headers.pop("content_type", "application/json"), **headers
    )


def put_json(api_client, url, body, token):
    return api_client.generic(
        "PUT",
        url,
        json.dumps(body).encode(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
