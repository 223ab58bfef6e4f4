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

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from . import throttling
from .compiled_lookup import CompiledLookup
from .crypto import hash_secret, secrets_match
from .errors import InvalidClient, InvalidRequest, TooManyRequests
from .models import Client
from .payload import INVALID_CHARACTERS, check_length
from .signals import client_authentication_failed

CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# Form parameters of client_secret_post and none, accepted by every endpoint that authenticates clients.
CLIENT_PARAMETERS = frozenset({"client_id", "client_secret"})

# Reasons sent with client_authentication_failed; never the secret itself.
MALFORMED_HEADER = "malformed_header"
CLIENT_ID_MISMATCH = "client_id_mismatch"  # HTTP Basic and the form body name different clients
MISSING_CLIENT_ID = "missing_client_id"
UNKNOWN_CLIENT = "unknown_client"  # no such client, or it is deactivated
MISSING_SECRET = "missing_secret"  # noqa: S105 - a reason, not a secret
INVALID_SECRET = "invalid_secret"  # noqa: S105
SECRET_FROM_PUBLIC_CLIENT = "secret_from_public_client"  # noqa: S105
THROTTLED = "throttled"  # too many failures for this client_id or address: the secret was not compared

# Compared against when the client_id is unknown, so that unknown and known
# clients take the same time to fail.
_UNKNOWN_CLIENT_HASH = hash_secret("unknown client")
# Every token request starts here: one precompiled query by the unique client_id.
CLIENT = CompiledLookup(Client, "client_id")


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
    # The same limits as in the body (InvalidRequest, like there).
    check_length("client_id", client_id)
    check_length("client_secret", secret)
    return client_id, secret


def failed(
    meta: Mapping[str, str], client_id: str | None, reason: str, description: str | Promise | None = None
) -> InvalidClient:
    """Announce a failed client authentication and return the error to raise.

    ``client_id`` is the one claimed (None when none could be read); the
    secret is never passed on, right or wrong.
    """
    announce_failure(meta, client_id, reason)
    return InvalidClient(description)


def announce_failure(meta: Mapping[str, str], client_id: str | None, reason: str) -> None:
    """Send ``client_authentication_failed``; the secret is never passed on."""
    client_authentication_failed.send(
        sender=Client, client_id=client_id, reason=reason, remote_addr=meta.get("REMOTE_ADDR")
    )


@sensitive_variables("secret", "basic", "params", "meta")
def authenticate_client(meta: Mapping[str, str], params: Mapping[str, str]) -> Client:
    """The client making a token request, or ``InvalidClient``.

    ``meta`` is the request's ``META`` (for the Authorization header) and
    ``params`` its parsed form parameters. Every ``InvalidClient`` is
    announced by the ``client_authentication_failed`` signal.

    Raises ``TooManyRequests`` (429, also announced) when the claimed
    client_id (of a confidential client) or the address failed
    ``CLIENT_AUTH_MAX_ATTEMPTS`` times within the window: then the secret is
    not compared.
    """
    try:
        basic = basic_credentials(meta)
    except InvalidClient as error:
        # What the header holds cannot be trusted to be a client_id: report none.
        raise failed(meta, None, MALFORMED_HEADER, error.description) from None
    if basic is not None:
        # §2.3: "The client MUST NOT use more than one authentication method in each request."
        if "client_secret" in params:
            raise InvalidRequest(_("Use only one client authentication method."))
        if params.get("client_id", basic[0]) != basic[0]:
            raise failed(meta, basic[0], CLIENT_ID_MISMATCH)
        # An empty password is how some libraries send a public client's id.
        client_id, secret = basic[0], basic[1] or None
    else:
        client_id, secret = params.get("client_id"), params.get("client_secret")
    if client_id is None:
        raise failed(meta, None, MISSING_CLIENT_ID)
    client = CLIENT.get(client_id)
    # Counted before the secret is compared, so that of a burst of guesses no
    # more than the limit get checked; a success gives its place back. The
    # lookup stays outside: a reservation is held for as short a time as
    # possible, since a client's concurrent correct requests hold places too.
    # Only a confidential client has a secret to guess: failures naming a
    # public client or an unknown client_id count against their address
    # alone, or anyone could lock every user of a public app out.
    subject = client_id if client is not None and client.is_confidential else None
    try:
        reservation = throttling.reserve(throttling.CLIENT_AUTH, subject, meta, counted=(InvalidClient,))
    except TooManyRequests:
        announce_failure(meta, client_id, THROTTLED)
        raise
    with reservation:
        if client is None or not client.is_active:
            secrets_match(secret or "", _UNKNOWN_CLIENT_HASH)
            raise failed(meta, client_id, UNKNOWN_CLIENT)
        # A client made public while the change awaits review is still, as
        # approved, confidential: its tokens stay bound to a secret (RFC 6749 §2.1).
        confidential = client.is_confidential or (
            client.approved_value("client_type") == Client.ClientType.CONFIDENTIAL
        )
        if confidential:
            if secret is None:
                raise failed(meta, client_id, MISSING_SECRET)
            if not client.check_secret(secret):
                raise failed(meta, client_id, INVALID_SECRET)
        elif secret is not None:
            # A public client has no secret; one that sends a value is misconfigured.
            raise failed(
                meta, client_id, SECRET_FROM_PUBLIC_CLIENT, _("Public clients must not send a client secret.")
            )
    return client
