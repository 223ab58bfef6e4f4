"""Client authentication at the token endpoint (RFC 6749 §2.3).

Methods (RFC 7591 names): ``client_secret_basic`` (HTTP Basic),
``client_secret_post`` (credentials in the form body) and ``none`` (a public
client sends only its client_id and proves itself with PKCE instead).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote

from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from .crypto import hash_secret, secrets_match
from .errors import InvalidClient, InvalidRequest
from .models import Client
from .payload import INVALID_CHARACTERS

CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# Compared against when the client_id is unknown, so that unknown and known
# clients take the same time to fail.
_UNKNOWN_CLIENT_HASH = hash_secret("unknown client")


@sensitive_variables("decoded", "secret", "meta", "header", "encoded")
def basic_credentials(meta: Mapping[str, str]) -> tuple[str, str] | None:
    """client_id and secret from an ``Authorization: Basic`` header, if any.

    §2.3.1: both are form-urlencoded before being joined with ":".
    """
    header = meta.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient(_("The Authorization header is malformed.")) from None
    client_id, sep, secret = decoded.partition(":")
    client_id, secret = unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
    if not sep or not client_id or INVALID_CHARACTERS.search(client_id + secret):
        raise InvalidClient(_("The Authorization header is malformed."))
    return client_id, secret


@sensitive_variables("secret", "basic", "params", "meta")
def authenticate_client(meta: Mapping[str, str], params: Mapping[str, str]) -> Client:
    """The client making a token request, or ``InvalidClient``.

    ``meta`` is the request's ``META`` (for the Authorization header) and
    ``params`` its parsed form parameters.
    """
    basic = basic_credentials(meta)
    if basic is not None:
        # §2.3: "The client MUST NOT use more than one authentication method in each request."
        if "client_secret" in params:
            raise InvalidRequest(_("Use only one client authentication method."))
        if params.get("client_id", basic[0]) != basic[0]:
            raise InvalidClient
        # An empty password is how some libraries send a public client's id.
        client_id, secret = basic[0], basic[1] or None
    else:
        client_id, secret = params.get("client_id"), params.get("client_secret")
    if client_id is None:
        raise InvalidClient
    client = Client.objects.filter(client_id=client_id, is_active=True).first()
    if client is None:
        secrets_match(secret or "", _UNKNOWN_CLIENT_HASH)
        raise InvalidClient
    if client.is_confidential:
        if secret is None or not client.check_secret(secret):
            raise InvalidClient
    elif secret is not None:
        # A public client has no secret; one that sends a value is misconfigured.
        raise InvalidClient(_("Public clients must not send a client secret."))
    return client
