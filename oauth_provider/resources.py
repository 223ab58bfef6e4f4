"""Protected resources: the audience of tokens (RFC 8707) and what each
resource publishes about itself (RFC 9728).

The host project declares its resources in ``RESOURCES``; an identifier is
matched exactly, as RFC 8707 §2 leaves comparison to the server and RFC 9728
§3.3 has clients compare the metadata's ``resource`` with the URL they used.
A credential's audience is the ``resources`` it carries: what the client
asked for, or the default (``DEFAULT_RESOURCES``), never anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext_lazy as _

from .errors import InvalidTarget
from .settings import JWT, OPAQUE, oauth_settings

# RFC 8707 §2: the request parameter, at the authorization, token and device
# authorization endpoints; it "MAY be used multiple times".
PARAMETER = "resource"
# RFC 9728 §3: the well-known URI suffix; §3.1 inserts it between the host
# and the path of the resource identifier.
WELL_KNOWN = "/.well-known/oauth-protected-resource"

UNKNOWN = _("The requested resource is not one this server issues tokens for.")
NO_SCOPE = _("The requested resource accepts none of the requested scopes.")
SCOPE_ELSEWHERE = _("A requested scope belongs to a resource that was not requested.")
NOT_GRANTED = _("The requested resource was not part of the original grant.")


def accepted_scopes(identifier: str) -> list[str]:
    """The scopes the declared resource ``identifier`` accepts."""
    return list(oauth_settings.RESOURCES[identifier]["scopes"])


def check_target(resources: Iterable[str], scopes: Iterable[str]) -> None:
    """Refuse a combination of resources and scopes a token cannot have.

    RFC 8707 §2: ``invalid_target`` when "the requested resource is invalid,
    missing, unknown, or malformed", and the server "can also use the
    invalid_target error code [...] if the requested scope is not
    acceptable for the resource". So every resource must be declared and
    accept at least one of the scopes, and a scope some resource declares
    must be accepted by one of those requested (else the token would carry a
    permission no resource of its audience honours). Scopes no resource
    declares (``openid``, ``profile``...) are the authorization server's own.
    """
    scopes = set(scopes)
    resources = list(resources)
    for identifier in resources:
        if identifier not in oauth_settings.RESOURCES:
            raise InvalidTarget(UNKNOWN)
        if not scopes & set(accepted_scopes(identifier)):
            raise InvalidTarget(NO_SCOPE)
    bound = {scope for identifier in oauth_settings.RESOURCES for scope in accepted_scopes(identifier)}
    reached = {scope for identifier in resources for scope in accepted_scopes(identifier)}
    if (scopes & bound) - reached:
        raise InvalidTarget(SCOPE_ELSEWHERE)


def default_resources(scopes: Iterable[str]) -> list[str]:
    """The audience of a token requested without ``resource``: the
    ``DEFAULT_RESOURCES`` list, or (None) every declared resource accepting
    one of ``scopes``, which is what a resource-unaware client was given
    before resources were declared, now named."""
    configured = oauth_settings.DEFAULT_RESOURCES
    if configured is not None:
        return list(configured)
    scopes = set(scopes)
    return [
        identifier for identifier in oauth_settings.RESOURCES if scopes & set(accepted_scopes(identifier))
    ]


def resolve_resources(requested: Sequence[str], scopes: Sequence[str]) -> list[str]:
    """The audience of a new grant (authorization request, client
    credentials, password, device authorization): the requested resources,
    checked (``check_target``), or the default."""
    if not requested:
        return default_resources(scopes)
    check_target(requested, scopes)
    return list(requested)


def narrow_resources(requested: Sequence[str], granted: Sequence[str], scopes: Sequence[str]) -> list[str]:
    """The audience of a token from an earlier grant (code, refresh token,
    device code), whose audience was ``granted``.

    RFC 8707 §2.2: the client may name fewer resources, "the authorization
    server [...] can then issue an access token [...] restricted to the
    indicated resource", never others. A grant without audience (made before
    its resources were declared) counts as having the default one.
    """
    granted = list(granted) or default_resources(scopes)
    if not requested:
        return granted
    if not set(requested) <= set(granted):
        raise InvalidTarget(NOT_GRANTED)
    check_target(requested, scopes)
    return list(requested)


def access_token_lifetime(resources: Iterable[str]) -> int:
    """Seconds an access token for ``resources`` lives: the shortest
    ``access_token_expire_seconds`` among them, else ``ACCESS_TOKEN_EXPIRE_SECONDS``."""
    declared = oauth_settings.RESOURCES
    lifetimes = [
        declared[identifier]["access_token_expire_seconds"]
        for identifier in resources
        if "access_token_expire_seconds" in declared.get(identifier, {})
    ]
    return min(lifetimes, default=oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS)


def access_token_format(client_format: str, resources: Iterable[str]) -> str:
    """``"jwt"`` or ``"opaque"``: the format of an access token for
    ``resources`` issued to a client whose ``access_token_format`` is
    ``client_format``.

    A resource that declares an ``access_token_format`` decides for the
    tokens meant for it, whatever the client's: it knows how its resource
    server validates tokens. Among several that declare one, JWT wins when any
    says so: a JWT access token is also stored like an opaque one, so a
    resource server that introspects or looks tokens up accepts it too, while
    one that only validates JWTs could not use an opaque token. When none of
    ``resources`` declares a format (or there are none), the client's applies.
    """
    declared = oauth_settings.RESOURCES
    formats = {
        declared[identifier]["access_token_format"]
        for identifier in resources
        if "access_token_format" in declared.get(identifier, {})
    }
    if not formats:
        return client_format
    return JWT if JWT in formats else OPAQUE


def declared_only(resources: Iterable[str]) -> list[str]:
    """``resources`` still in ``RESOURCES``: a grant outlives a resource the
    site stopped declaring, its new tokens do not name it."""
    return [identifier for identifier in resources if identifier in oauth_settings.RESOURCES]


def display_name(identifier: str) -> str:
    """How a person is told about a resource: its ``name``, else its identifier."""
    return str(oauth_settings.RESOURCES.get(identifier, {}).get("name") or identifier)


def describe(resources: Iterable[str]) -> list[tuple[str, str]]:
    """(identifier, name) pairs for the consent screen."""
    return [(identifier, display_name(identifier)) for identifier in resources]


# -- RFC 9728 ---------------------------------------------------------------------------------


def metadata_url(identifier: str) -> str:
    """The URL of ``identifier``'s metadata document (RFC 9728 §3.1): the
    well-known suffix inserted after the host, "any terminating slash (/)
    following the host component MUST be removed" first."""
    parts = urlsplit(identifier)
    path = "" if parts.path == "/" else parts.path
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def resource_at(path: str, origin: str) -> str | None:
    """The declared resource whose metadata lives at ``WELL_KNOWN + path``
    (``path`` "" for the bare well-known URL: a resource at a site root).

    The path is what identifies it; only when several declared resources
    share it (on different hosts) does the request's ``origin``
    (``scheme://host``) choose. ``path`` arrives percent-decoded (WSGI's
    PATH_INFO), the identifier's path as declared: compared decoded, so a
    resource whose identifier has %-escapes is found at ``metadata_url``.
    """
    matches = []
    for identifier in oauth_settings.RESOURCES:
        parts = urlsplit(identifier)
        if (unquote(parts.path) or "/") == (path or "/"):
            matches.append((identifier, f"{parts.scheme}://{parts.netloc}"))
    if len(matches) > 1:
        matches = [match for match in matches if match[1] == origin]
    return matches[0][0] if len(matches) == 1 else None


def protected_resource_metadata(identifier: str, issuer: str) -> dict[str, Any]:
    """RFC 9728 §2 document for the declared resource ``identifier``."""
    declared = oauth_settings.RESOURCES[identifier]
    metadata: dict[str, Any] = {
        "resource": identifier,
        "authorization_servers": [issuer],
        "scopes_supported": accepted_scopes(identifier),
        # The DRF class reads only the Authorization header (RFC 6750 §2.1).
        "bearer_methods_supported": ["header"],
    }
    if declared.get("name"):
        metadata["resource_name"] = str(declared["name"])
    if declared.get("documentation"):
        metadata["resource_documentation"] = declared["documentation"]
    return metadata
