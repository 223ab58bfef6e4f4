"""System checks for the resource-server settings (E042-E044, W020).

``oauth_provider.checks`` runs them on the authorization server; a project
that only uses the DRF classes against a remote issuer gets them (with
E001/E002 for the dict itself) by listing
``"oauth_provider.remote_resource_server"`` in ``INSTALLED_APPS`` (``apps.py``).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ..setting_values import check_dict, error, positive_int, resource_identifier_problem
from ..settings import oauth_settings

CREDENTIALS = ("RESOURCE_SERVER_CLIENT_ID", "RESOURCE_SERVER_CLIENT_SECRET")


def check_resource_server_settings() -> list[Error]:
    """E042: ``RESOURCE_SERVER_ISSUER`` is not None or an https URL (http
    only on loopback) without query or fragment. E043: the client
    credentials are not both strings (or both None). E044: the cache and
    refetch times are not whole numbers of seconds. E033: with a remote
    issuer, ``RESOURCE_SERVER_RESOURCE`` is not a resource identifier (there
    is no ``RESOURCES`` here to declare it in)."""
    errors = []
    issuer = oauth_settings.RESOURCE_SERVER_ISSUER
    if issuer is not None and resource_identifier_problem(issuer):
        errors.append(
            error(
                42,
                "OAUTH_PROVIDER['RESOURCE_SERVER_ISSUER'] must be None or the issuer's https URL, "
                "without query or fragment.",
                "e.g. 'https://auth.example.com', exactly as the issuer's metadata writes it "
                "(RFC 8414 §3.3); plain http only on loopback, for development.",
            )
        )
    credentials = [getattr(oauth_settings, name) for name in CREDENTIALS]
    if credentials != [None, None] and not all(isinstance(value, str) and value for value in credentials):
        errors.append(
            error(
                43,
                "OAUTH_PROVIDER['RESOURCE_SERVER_CLIENT_ID'] and ['RESOURCE_SERVER_CLIENT_SECRET'] must be "
                "both set (non-empty strings) or both None.",
                "They are the confidential client this resource server introspects tokens with; "
                "None accepts JWT access tokens only.",
            )
        )
    cache = oauth_settings.RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS
    if not (positive_int(cache) or (type(cache) is int and cache == 0)):
        errors.append(
            error(
                44,
                "OAUTH_PROVIDER['RESOURCE_SERVER_INTROSPECTION_CACHE_SECONDS'] must be a whole number "
                "of seconds, 0 or more.",
                "0 introspects on every request; the default is 60.",
            )
        )
    if not positive_int(oauth_settings.RESOURCE_SERVER_JWKS_REFRESH_SECONDS):
        errors.append(
            error(
                44,
                "OAUTH_PROVIDER['RESOURCE_SERVER_JWKS_REFRESH_SECONDS'] must be a positive whole number "
                "of seconds.",
                "It limits how often an unknown kid refetches the issuer's keys; the default is 60.",
            )
        )
    resource = oauth_settings.RESOURCE_SERVER_RESOURCE
    if issuer is not None and resource is not None and resource_identifier_problem(resource):
        errors.append(
            error(
                33,
                "OAUTH_PROVIDER['RESOURCE_SERVER_RESOURCE'] must be None or this resource server's "
                "identifier: an https URL without query or fragment.",
                "The issuer's tokens for this server carry it in aud (RFC 8707, RFC 9068 §4).",
            )
        )
    return errors


def resource_server_deploy_warnings() -> list[Warning]:
    """W020: a remote issuer without ``RESOURCE_SERVER_RESOURCE``: any of
    its tokens is accepted, whatever resource it was meant for."""
    if oauth_settings.RESOURCE_SERVER_ISSUER is None or oauth_settings.RESOURCE_SERVER_RESOURCE is not None:
        return []
    return [
        Warning(
            "OAUTH_PROVIDER['RESOURCE_SERVER_ISSUER'] is set without RESOURCE_SERVER_RESOURCE: a token the "
            "issuer made for any other API is accepted here too.",
            hint="Set RESOURCE_SERVER_RESOURCE to this API's identifier, the aud its tokens carry "
            "(RFC 9068 §4: the resource server MUST validate aud).",
            id="oauth_provider.W020",
        )
    ]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The checks a resource-server-only project runs (registered by ``apps.py``)."""
    errors = check_dict()
    return errors or check_resource_server_settings()


def check_deploy_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [] if check_dict() else resource_server_deploy_warnings()


def register_checks() -> None:
    register(check_settings, Tags.security)
    register(check_deploy_settings, Tags.security, deploy=True)
