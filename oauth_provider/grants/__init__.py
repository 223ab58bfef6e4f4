"""The token endpoint's registry: grant_type -> grant (RFC 6749 §4)."""

from __future__ import annotations

from ..errors import UnsupportedGrantType
from ..settings import oauth_settings
from .authorization_code import AuthorizationCodeGrant
from .base import Grant
from .client_credentials import ClientCredentialsGrant
from .device_code import DeviceCodeGrant
from .password import PasswordGrant
from .refresh_token import RefreshTokenGrant

GRANTS: dict[str, type[Grant]] = {
    grant.grant_type: grant
    for grant in (
        AuthorizationCodeGrant,
        RefreshTokenGrant,
        ClientCredentialsGrant,
        PasswordGrant,
        DeviceCodeGrant,
    )
}


def get_grant(grant_type: str) -> Grant:
    """The grant for ``grant_type`` if this server offers it."""
    if grant_type not in GRANTS or grant_type not in oauth_settings.GRANT_TYPES:
        raise UnsupportedGrantType
    return GRANTS[grant_type]()
