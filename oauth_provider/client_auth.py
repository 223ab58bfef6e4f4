"""Client authentication at the token endpoint (RFC 6749 §2.3).

Methods (RFC 7591 names): ``client_secret_basic`` (HTTP Basic),
``client_secret_post`` (credentials in the form body), ``none`` (a public
client sends only its client_id and proves itself with PKCE instead) and,
for clients with public keys (``Client.jwks``), ``private_key_jwt``
(RFC 7523 §2.2, ``client_assertions``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from urllib.parse import unquote

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from . import client_assertions, client_metadata_documents, throttling
from .compiled_lookup import CompiledLookup
from .crypto import hash_secret, secrets_match
from .errors import InvalidClient, InvalidRequest, TooManyRequests
from .models import Client
from .payload import INVALID_CHARACTERS, check_length
from .signals import client_authentication_failed

CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# Form parameters of client_secret_post, none and private_key_jwt, accepted
# by every endpoint that authenticates clients.
CLIENT_PARAMETERS = frozenset({"client_id", "client_secret", "client_assertion", "client_assertion_type"})

# Reasons sent with client_authentication_failed; never the secret itself.
MALFORMED_HEADER = "malformed_header"
CLIENT_ID_MISMATCH = "client_id_mismatch"  # HTTP Basic and the form body name different clients
MISSING_CLIENT_ID = "missing_client_id"
UNKNOWN_CLIENT = "unknown_client"  # no such client, or it is deactivated
MISSING_SECRET = "missing_secret"  # noqa: S105 - a reason, not a secret
INVALID_SECRET = "invalid_secret"  # noqa: S105
SECRET_FROM_PUBLIC_CLIENT = "secret_from_public_client"  # noqa: S105
INVALID_ASSERTION = "invalid_assertion"  # private_key_jwt: malformed, badly signed, wrong claims or replayed
METADATA_DOCUMENT_REFUSED = "metadata_document_refused"  # an https client_id whose document was refused
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


def find_client(meta: Mapping[str, str], client_id: str) -> Client | None:
    """The client ``client_id`` names, if any: registered, or described by a
    client ID metadata document (``client_metadata_documents``), whose
    refusal is announced and raised as ``InvalidClient``."""
    if not client_metadata_documents.names_document(client_id):
        return CLIENT.get(client_id)
    try:
        return client_metadata_documents.resolve(client_id, meta)
    except InvalidClient as error:
        raise failed(meta, client_id, METADATA_DOCUMENT_REFUSED, error.description) from None


@sensitive_variables("secret")
def secret_set_a_moment_ago(client: Client, secret: str) -> bool:
    """Whether ``secret``, which ``client`` (read from a replica) refused, is
    the client's secret on the primary: one set a moment ago (a rotation) may
    not have replicated yet. One more query, on failures only."""
    primary = CLIENT.primary()
    if client._state.db == primary:
        return False
    current = CLIENT.get(client.client_id, using=primary)
    return current is not None and current.check_secret(secret)


@sensitive_variables("secret", "basic", "params", "meta")
def authenticate_client(
    meta: Mapping[str, str], params: Mapping[str, str], audiences: Collection[str] = ()
) -> Client:
    """The client making a token request, or ``InvalidClient``.

    ``meta`` is the request's ``META`` (for the Authorization header) and
    ``params`` its parsed form parameters. Every ``InvalidClient`` is
    announced by the ``client_authentication_failed`` signal.

    Raises ``TooManyRequests`` (429, also announced) when the claimed
    client_id (of a confidential client) or the address failed
    ``CLIENT_AUTH_MAX_ATTEMPTS`` times within the window: then the secret is
    not compared.

    ``audiences`` are the ``aud`` values a ``private_key_jwt`` assertion may
    name (RFC 7523 §3: the issuer, or the token endpoint URL).
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
    assertion = None
    if "client_assertion" in params or "client_assertion_type" in params:
        if basic is not None or secret is not None:
            raise InvalidRequest(_("Use only one client authentication method."))
        assertion = params.get("client_assertion")
        if params.get("client_assertion_type") != client_assertions.JWT_BEARER or not assertion:
            raise failed(meta, client_id, INVALID_ASSERTION, client_assertions.UNSUPPORTED_ASSERTION)
        # RFC 7521 §4.2: the client_id parameter is optional; the assertion's sub names the client.
        client_id = client_id or client_assertions.claimed_client_id(assertion)
    if client_id is None:
        raise failed(meta, None, MISSING_CLIENT_ID)
    client = find_client(meta, client_id)
    # Counted before the secret is compared, so that of a burst of guesses no
    # more than the limit get checked; a success gives its place back. The
    # lookup stays outside: a reservation is held for as short a time as
    # possible, since a client's concurrent correct requests hold places too.
    # Only a confidential client with a secret has one to guess: failures
    # naming a public client, one that signs assertions (a private key cannot
    # be guessed, RFC 7523) or an unknown client_id count against their
    # address alone, or anyone could lock every user of such an app out.
    subject = client_id if client is not None and client.is_confidential and client.jwks is None else None
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
        if assertion is not None or client.jwks is not None:
            # A client with keys authenticates with them only, and keys authenticate only such a client.
            if assertion is None:
                raise failed(meta, client_id, INVALID_ASSERTION, client_assertions.ASSERTION_REQUIRED)
            try:
                client_assertions.verify(client, assertion, audiences)
            except InvalidClient as error:
                raise failed(meta, client_id, INVALID_ASSERTION, error.description) from None
        elif confidential:
            if secret is None:
                raise failed(meta, client_id, MISSING_SECRET)
            if not client.check_secret(secret) and not secret_set_a_moment_ago(client, secret):
                raise failed(meta, client_id, INVALID_SECRET)
        elif secret is not None:
            # A public client has no secret; one that sends a value is misconfigured.
            raise failed(
                meta, client_id, SECRET_FROM_PUBLIC_CLIENT, _("Public clients must not send a client secret.")
            )
    return client
