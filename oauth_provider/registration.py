"""Dynamic client registration (RFC 7591) and its management (RFC 7592).

Software registers a client by posting its metadata as JSON (RFC 7591 §3.1)
and gets a ``client_id``, a secret if it is confidential, and a
``registration_access_token`` with which it reads, replaces and deletes its
registration at ``registration_client_uri`` (RFC 7592 §2). Both tokens are
stored only as hashes.

The metadata becomes a ``Client`` validated by the model, with the rules the
admin, the self-service page and ``createclient`` apply (redirect URIs,
names, grant types and scopes the site offers). What only an admin may give
(privileged scopes, the legacy grants) is refused, as on the self-service
page, and with ``REGISTRATION_APPROVAL_REQUIRED`` a new client, or a change
to what users see, waits for an admin's approval (``Client.request_review``).

Whoever registers is unknown: with ``REGISTRATION_POLICY`` ``"open"`` anyone
may register any name, so the approval, the consent screen and the rate
limit per address (``throttling.REGISTRATION``) are the defence. Such a
client's server-side fetches go to public addresses only (``outbound``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from . import primary
from .errors import (
    InvalidClientMetadata,
    InvalidInitialAccessToken,
    InvalidRegisteredRedirectURI,
    InvalidRegistrationAccessToken,
    InvalidSoftwareStatement,
    OAuthError,
    RequestTooLarge,
)
from .forms import normalize_redirect_uris
from .metadata import issuer, origin
from .models import Client, InitialAccessToken
from .models.base import get_or_none
from .models.clients import default_subject_type
from .payload import REGISTRATION_MAX_BODY_BYTES, REGISTRATION_MAX_ITEMS, REGISTRATION_MAX_LENGTHS
from .rest_framework.authentication import bearer_token
from .scopes import parse_scope, privileged_scopes
from .settings import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    LEGACY_GRANT_TYPES,
    REGISTRATION_OPEN,
    oauth_settings,
)

# RFC 7591 §2: "If unspecified or omitted, the default is "client_secret_basic""
# and, for grant_types, "authorization_code". "none" makes a public client.
DEFAULT_AUTH_METHOD = "client_secret_basic"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
DEFAULT_GRANT_TYPES = [AUTHORIZATION_CODE]
# §2.1: the response type that goes with the authorization code grant; the
# implicit grant's "token" is legacy, and never registered here.
CODE = "code"
LIST_MEMBERS = frozenset({"redirect_uris", "grant_types", "response_types", "post_logout_redirect_uris"})
# Control characters, U+FFFD and lone surrogates (which JSON's "\ud800" can
# carry and no database stores) belong in no metadata value.
INVALID_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\ufffd\ud800-\udfff]")
# The JSON member that sets each model field, to name it in an error.
MEMBER_OF_FIELD = {
    "name": "client_name",
    "website": "client_uri",
    "client_type": "token_endpoint_auth_method",
    "redirect_uris": "redirect_uris",
    "grant_types": "grant_types",
    "scopes": "scope",
    "post_logout_redirect_uris": "post_logout_redirect_uris",
    "backchannel_logout_uri": "backchannel_logout_uri",
    "id_token_signed_response_alg": "id_token_signed_response_alg",
    "subject_type": "subject_type",
    "sector_identifier_uri": "sector_identifier_uri",
}
# What an update writes, so that nothing an admin sets meanwhile (``is_active``,
# trust) is overwritten by a client's PUT.
UPDATED_FIELDS = [
    *MEMBER_OF_FIELD,
    "client_secret_hash",
    "awaiting_approval",
    "approved_values",
    "updated_at",
]
NOT_A_JSON_OBJECT = _("The request body must be a JSON object (application/json, UTF-8).")


def invalid(member: str) -> InvalidClientMetadata:
    """The error for a bad value of ``member`` (a name from our own table, never input):
    §3.2.2's ``invalid_redirect_uri`` for redirect URIs, else ``invalid_client_metadata``."""
    if member == "redirect_uris":
        return InvalidRegisteredRedirectURI()
    return InvalidClientMetadata(_("The value of %(member)s is invalid."), member=member)


def presented_token(request: Request, missing: type[OAuthError], wrong: type[OAuthError]) -> str:
    """The token of the request's ``Authorization: Bearer`` header (RFC 6750 §2.1)."""
    try:
        raw = bearer_token(request)
    except AuthenticationFailed:
        raise wrong from None
    if raw is None:
        raise missing
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise wrong from None


def initial_access_token(value: str) -> InitialAccessToken:
    """RFC 7591 §3: the usable initial access token ``value``, or ``invalid_token``."""
    token = InitialAccessToken.find_usable(value)
    if token is None:
        raise InvalidInitialAccessToken
    return token


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 §4: names "SHOULD be unique"; parsers disagree on which of two
    # wins, so a repeated member is refused like a repeated parameter.
    data = dict(pairs)
    if len(data) != len(pairs):
        raise ValueError("repeated member")
    return data


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are not JSON (RFC 8259 §6), though Python reads them.
    raise ValueError(name)


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """RFC 7591 §3.1: the request body, a JSON object; ``invalid_client_metadata``
    for anything else (not JSON, not UTF-8, nested too deep, a repeated member)."""
    if len(body) > REGISTRATION_MAX_BODY_BYTES:
        raise RequestTooLarge
    media_type, params = parse_header_parameters(content_type or "")
    if media_type.lower() != "application/json" or params.get("charset", "utf-8").lower() != "utf-8":
        raise InvalidClientMetadata(NOT_A_JSON_OBJECT)
    try:
        data = json.loads(
            body.decode("utf-8"), object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError):
        # ValueError covers a bad encoding, bad JSON and an integer too long to read.
        raise InvalidClientMetadata(NOT_A_JSON_OBJECT) from None
    if not isinstance(data, dict):
        raise InvalidClientMetadata(NOT_A_JSON_OBJECT)
    return data


def read_metadata(data: dict[str, Any]) -> dict[str, Any]:
    """The members this server reads, typed and bounded; a member sent as
    ``null`` counts as omitted. Others are ignored (RFC 7591 §2: "The
    authorization server MUST ignore any client metadata sent by the client
    that it does not understand"), so they are not registered and the
    response does not list them (§3.2.1)."""
    if data.get("software_statement") is not None:
        raise InvalidSoftwareStatement
    values = {}
    for member, limit in REGISTRATION_MAX_LENGTHS.items():
        value = data.get(member)
        if value is None:
            continue
        items = value if member in LIST_MEMBERS else [value]
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise invalid(member)
        if len(items) > REGISTRATION_MAX_ITEMS:
            raise invalid(member)
        for item in items:
            if len(item) > limit:
                raise InvalidClientMetadata(
                    _("The value of %(member)s is longer than %(limit)d characters."),
                    member=member,
                    limit=limit,
                )
            if INVALID_CHARACTERS.search(item):
                raise InvalidClientMetadata(
                    _("The value of %(member)s contains invalid characters."), member=member
                )
        values[member] = value
    return values


def registrable_grant_types() -> list[str]:
    """The grant types a client may register: those the site offers, but
    not the legacy ones, which only an admin gives (as on the self-service page).

    Nor client credentials when anyone may register and no admin reviews
    (``open`` without ``REGISTRATION_APPROVAL_REQUIRED``): its tokens act with
    no person's consent, so anyone could give themselves API access. An
    initial access token or an admin's approval makes someone answerable.
    """
    unreviewed = (
        oauth_settings.REGISTRATION_POLICY == REGISTRATION_OPEN
        and not oauth_settings.REGISTRATION_APPROVAL_REQUIRED
    )
    return [
        name
        for name in oauth_settings.GRANT_TYPES
        if name not in LEGACY_GRANT_TYPES and not (unreviewed and name == CLIENT_CREDENTIALS)
    ]


def apply_metadata(client: Client, values: dict[str, Any]) -> None:
    """Set every registrable field of ``client`` from ``values``: an omitted
    member resets its field (RFC 7592 §2.2: "Omitted fields MUST be treated as
    null or empty values"). Checks what the model does not: the choices that
    are an admin's and §2.1's consistency of grant and response types."""
    method = values.get("token_endpoint_auth_method", DEFAULT_AUTH_METHOD)
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            _("token_endpoint_auth_method must be one of: %(methods)s."), methods=", ".join(AUTH_METHODS)
        )
    grant_types = list(dict.fromkeys(values.get("grant_types", DEFAULT_GRANT_TYPES)))
    offered = registrable_grant_types()
    if not set(grant_types) <= set(offered):
        raise InvalidClientMetadata(_("grant_types may list only: %(offered)s."), offered=", ".join(offered))
    response_types = values.get("response_types")
    # §2.1: a client that lists response types lists those of its grant types.
    if response_types is not None and (
        not set(response_types) <= {CODE} or (CODE in response_types) != (AUTHORIZATION_CODE in grant_types)
    ):
        raise InvalidClientMetadata(
            _('response_types may list only "code", and exactly when grant_types lists authorization_code.')
        )
    try:
        scopes = parse_scope(values.get("scope"))
    except OAuthError:
        raise invalid("scope") from None
    if set(scopes) & privileged_scopes():
        raise InvalidClientMetadata(_("The scope includes a scope only an administrator can give."))
    # §2: "If omitted, the authorization server MAY display the raw client_id
    # value to the end-user instead": a name nobody chose cannot mislead.
    client.name = values.get("client_name", client.client_id)
    client.website = values.get("client_uri", "")
    client.client_type = Client.ClientType.PUBLIC if method == "none" else Client.ClientType.CONFIDENTIAL
    client.redirect_uris = normalize_redirect_uris("\n".join(values.get("redirect_uris", [])))
    client.grant_types = grant_types
    client.scopes = scopes
    client.post_logout_redirect_uris = normalize_redirect_uris(
        "\n".join(values.get("post_logout_redirect_uris", []))
    )
    client.backchannel_logout_uri = values.get("backchannel_logout_uri", "")
    client.id_token_signed_response_alg = values.get(
        "id_token_signed_response_alg", Client._meta.get_field("id_token_signed_response_alg").get_default()
    )
    client.subject_type = values.get("subject_type", default_subject_type())
    client.sector_identifier_uri = values.get("sector_identifier_uri", "")


def validate(client: Client) -> None:
    """The model's validation, as for every other way of registering a client;
    the first field in error named in an RFC 7591 §3.2.2 error."""
    try:
        client.full_clean()
    except ValidationError as error:
        fields = [name for name in getattr(error, "error_dict", {}) if name in MEMBER_OF_FIELD]
        if "redirect_uris" in fields:
            raise InvalidRegisteredRedirectURI from None
        if fields:
            raise invalid(MEMBER_OF_FIELD[fields[0]]) from None
        raise InvalidClientMetadata from None


def set_secret(client: Client) -> str | None:
    """A confidential client without a secret gets one (returned, shown once);
    a public client keeps none (RFC 6749 §2.1)."""
    if not client.is_confidential:
        client.client_secret_hash = ""
        return None
    return None if client.client_secret_hash else client.set_secret()


def register(data: dict[str, Any], initial: InitialAccessToken | None) -> tuple[Client, dict[str, str]]:
    """RFC 7591 §3.1-§3.2: a new client from ``data``; with the credentials
    to show once (``client_secret``, ``registration_access_token``)."""
    client = Client()
    apply_metadata(client, read_metadata(data))
    # Before validation: it marks the client as not an admin's, so its sector
    # identifier URI is fetched from public addresses only (outbound).
    credentials = {"registration_access_token": client.set_registration_access_token()}
    validate(client)
    secret = set_secret(client)
    if secret is not None:
        credentials["client_secret"] = secret
    if oauth_settings.REGISTRATION_APPROVAL_REQUIRED:
        client.is_active = False
        client.awaiting_approval = True
    with primary.atomic(Client):
        # Counted with the registration: concurrent ones never exceed max_uses.
        if initial is not None and not initial.use():
            raise InvalidInitialAccessToken
        client.save()
    return client, credentials


def find_client(client_id: str, token: str) -> Client:
    """RFC 7592 §2: the client at ``registration_client_uri`` whose
    registration access token is ``token``; ``invalid_token`` otherwise,
    also for a client that does not exist (§2.1: 401), so the answer never
    tells which exist. A deleted client's token went with its row. Read from
    the primary: a client registered a moment ago is managed at once, and
    what is read here is what an update or deletion writes over."""
    client = get_or_none(Client.objects.using(primary.alias(Client)).filter(client_id=client_id))
    if client is None or not client.check_registration_access_token(token):
        raise InvalidRegistrationAccessToken
    return client


def update(client: Client, data: dict[str, Any]) -> str | None:
    """RFC 7592 §2.2: replace the client's metadata with ``data``; return a
    new secret if it became confidential. The registration access token is
    not rotated (§2.2 allows either): a client that lost the answer keeps access."""
    values = read_metadata(data)
    # §2.2: "The client MUST include its client_id field in the request, and
    # it MUST be the same as its currently issued client identifier. If the
    # client includes the client_secret field in the request, the value of
    # this field MUST match the currently issued client secret".
    if values.get("client_id") != client.client_id:
        raise InvalidClientMetadata(_("client_id must be the client's own client_id."))
    if "client_secret" in values and not client.check_secret(values["client_secret"]):
        raise InvalidClientMetadata(_("client_secret does not match the client's secret."))
    approved = client.reviewed_values()
    apply_metadata(client, values)
    validate(client)
    secret = set_secret(client)
    if oauth_settings.REGISTRATION_APPROVAL_REQUIRED:
        client.request_review(approved)
    client.save(update_fields=UPDATED_FIELDS)
    return secret


def client_uri(request: HttpRequest, client: Client) -> str:
    """RFC 7591 §3.2.1 / RFC 7592 §3 ``registration_client_uri``, on the issuer's origin."""
    return origin(issuer(request)) + reverse("oauth_provider:registration_client", args=[client.client_id])


def client_information(request: HttpRequest, client: Client, credentials: dict[str, str]) -> dict[str, Any]:
    """RFC 7591 §3.2.1 and RFC 7592 §3: the client information response,
    with the registered metadata as stored (after defaults and normalization).

    ``token_endpoint_auth_method`` of a confidential client is always
    ``client_secret_basic``: the token endpoint accepts either secret method
    from every confidential client, so nothing else is stored.
    """
    info: dict[str, Any] = {
        "client_id": client.client_id,
        **credentials,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "registration_client_uri": client_uri(request, client),
        "client_name": client.name,
        "token_endpoint_auth_method": DEFAULT_AUTH_METHOD if client.is_confidential else "none",
        "redirect_uris": client.redirect_uri_list,
        "grant_types": client.grant_types,
        "response_types": [CODE] if AUTHORIZATION_CODE in client.grant_types else [],
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "subject_type": client.subject_type,
    }
    if client.is_confidential:
        # §3.2.1: "0 if it will not expire"; REQUIRED if client_secret is issued.
        info["client_secret_expires_at"] = 0
    optional = {
        "client_uri": client.website,
        "scope": " ".join(client.scopes),
        "post_logout_redirect_uris": client.post_logout_redirect_uri_list,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "sector_identifier_uri": client.sector_identifier_uri,
    }
    info.update({member: value for member, value in optional.items() if value})
    return info
