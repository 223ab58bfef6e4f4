"""Settings for oauth_provider, read from the ``OAUTH_PROVIDER`` dict.

Every name is read through ``oauth_settings``::

    from oauth_provider.settings import oauth_settings
    oauth_settings.ACCESS_TOKEN_EXPIRE_SECONDS

Values are looked up lazily and the cache is dropped on ``setting_changed``
(so ``override_settings`` works in tests). Nothing is validated here: that is
the job of ``checks.py``, so that ``manage.py check`` reports a bad value
instead of a request failing.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

# Grant types by their RFC names (RFC 6749 §4, RFC 8628 §3.4).
AUTHORIZATION_CODE = "authorization_code"
CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type name, not a secret
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
PASSWORD = "password"  # noqa: S105 - a grant type name, not a secret
# Not a token endpoint grant: the authorization endpoint's response_type=token.
IMPLICIT = "implicit"

# Legacy grants RFC 9700 §2.4 and §2.1.2 say not to use; enabling one is a deploy warning.
LEGACY_GRANT_TYPES = (IMPLICIT, PASSWORD)

# Grant types this release knows, with labels for forms.
GRANT_TYPE_CHOICES = [
    (AUTHORIZATION_CODE, _("Authorization code")),
    (CLIENT_CREDENTIALS, _("Client credentials")),
    (REFRESH_TOKEN, _("Refresh token")),
    (DEVICE_CODE, _("Device code")),
    (PASSWORD, _("Password (legacy)")),
    (IMPLICIT, _("Implicit (legacy)")),
]

DEFAULTS: dict[str, Any] = {
    # Scope name -> description shown on the consent screen.
    "SCOPES": {"read": _("Read your data"), "write": _("Change your data")},
    # Granted when a request names no scope. Empty: such a request is
    # answered with invalid_scope (RFC 6749 §3.3).
    "DEFAULT_SCOPES": [],
    # Lifetimes, in seconds.
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # A refresh token expires after this long unused (each rotation starts a
    # new period), so abandoned rows can always be cleaned up.
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    # PKCE (RFC 7636). Public clients must always use it; this extends the
    # requirement to confidential clients (RFC 9700 §2.1.1 recommends it).
    "PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS": False,
    # Allowed code_challenge_method values; add "plain" only for legacy clients.
    "PKCE_CODE_CHALLENGE_METHODS": ["S256"],
    # Device authorization grant (RFC 8628): how long a device_code and its
    # user_code live, and the minimum polling interval.
    "DEVICE_CODE_EXPIRE_SECONDS": 600,
    "DEVICE_CODE_INTERVAL": 5,
    # Wrong user codes a signed-in user, or one client address, may enter per
    # window before the verification page refuses more (RFC 8628 §5.1).
    "USER_CODE_MAX_ATTEMPTS": 10,
    "USER_CODE_ATTEMPT_WINDOW_SECONDS": 600,
    # Cache alias that counts those attempts; shared by every process in production.
    "THROTTLE_CACHE": "default",
    # A rotated refresh token presented again within this many seconds gets
    # one retry instead of revoking the family. 0 (off) is the secure default.
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    # Cache alias for access token lookups by protected APIs; None: no cache.
    "TOKEN_CACHE": None,
    # Upper bound on how long a cached lookup is kept (never past the token's expiry).
    "TOKEN_CACHE_TIMEOUT_SECONDS": 300,
    # A bearer token with this scope may call the introspection endpoint
    # (RFC 7662 §2.1). None: only clients flagged "may introspect" can.
    "INTROSPECTION_SCOPE": None,
    # Grant types the server offers at all; a client must also allow each.
    # Implicit and password are legacy (RFC 9700) and off unless listed here.
    "GRANT_TYPES": [AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, DEVICE_CODE],
    # Issuer identifier (RFC 8414 §2, RFC 9207): an https URL without query or
    # fragment. None: derived from the request's scheme and host.
    "ISSUER": None,
    # Signed-in users may register their own clients at /o/clients/.
    "SELF_SERVICE_CLIENTS": True,
    # Self-registered clients stay inactive until an admin approves them, so
    # nobody can put an arbitrary app name in front of users unreviewed.
    "SELF_SERVICE_APPROVAL_REQUIRED": True,
    # How many clients one user may register; None: no limit.
    "SELF_SERVICE_MAX_CLIENTS": 20,
    # Realm named in WWW-Authenticate on protected API responses (RFC 6750 §3).
    "RESOURCE_SERVER_REALM": "api",
    # Protected resources (APIs) tokens may be meant for (RFC 8707 resource
    # indicators, RFC 9728 metadata): identifier URL -> {"scopes": [...],
    # "name": str, "documentation": URL, "access_token_expire_seconds": int}
    # (all but "scopes" optional). Identifiers are https URLs (http only for
    # loopback) without query or fragment, matched exactly.
    "RESOURCES": {},
    # Audience of a token requested without ``resource``. None: every
    # declared resource that accepts one of the token's scopes (none while
    # RESOURCES is empty). A list of RESOURCES identifiers: exactly those.
    "DEFAULT_RESOURCES": None,
    # The resource (a RESOURCES identifier) the DRF BearerTokenAuthentication
    # protects, for views without an ``oauth_resource`` attribute: a token
    # whose audience does not include it is refused. None: not enforced.
    "RESOURCE_SERVER_RESOURCE": None,
    # The issuer whose tokens a resource server on another machine accepts
    # (remote_resource_server); None: this server's own.
    "RESOURCE_SERVER_ISSUER": None,
    # A user's password change (or set_unusable_password) revokes the tokens,
    # codes and device approvals clients hold for them (RFC 6819 §5.2.2.3).
    "REVOKE_TOKENS_ON_PASSWORD_CHANGE": True,
    # Scopes (from SCOPES) only an admin may give a client, besides
    # INTROSPECTION_SCOPE: never self-service, never "every scope" by default.
    "PRIVILEGED_SCOPES": [],
    # Brute force and flooding (throttling.py), counted in THROTTLE_CACHE per
    # client or account and, separately, per client address.
    # Failed client authentications per window (token, revoke, introspect, device_authorization).
    "CLIENT_AUTH_MAX_ATTEMPTS": 20,
    "CLIENT_AUTH_ATTEMPT_WINDOW_SECONDS": 600,
    # Failed password-grant logins per username per window (RFC 6749 §4.3.2).
    "PASSWORD_GRANT_MAX_ATTEMPTS": 10,
    "PASSWORD_GRANT_ATTEMPT_WINDOW_SECONDS": 600,
    # Device authorization requests (RFC 8628 §3.1) per client per window,
    # and how many undecided, unexpired ones a client may have at once.
    "DEVICE_AUTHORIZATION_MAX_REQUESTS": 30,
    "DEVICE_AUTHORIZATION_REQUEST_WINDOW_SECONDS": 60,
    "DEVICE_AUTHORIZATION_MAX_PENDING": 500,
    # OpenID Connect (Core 1.0, Discovery 1.0, RP-Initiated and Back-Channel
    # Logout 1.0). On: a client granted the "openid" scope gets ID tokens.
    "OIDC_ENABLED": True,
    # ID token lifetime (Core §2 "exp"), in seconds.
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    # Algorithms the server keeps signing keys for; clients choose among
    # them (id_token_signed_response_alg). RS256 is required (Core §15.1).
    "OIDC_SIGNING_ALGORITHMS": ["RS256", "ES256", "EdDSA"],
    # A key made by rotation is published at once but signs only after this
    # delay, so relying parties' cached JWKS learn it first. JWKS responses
    # may be cached for half of it.
    "OIDC_KEY_ACTIVATION_DELAY_SECONDS": 2 * 24 * 3600,
    # Secret the private keys are encrypted with at rest. None: SECRET_KEY
    # (and SECRET_KEY_FALLBACKS to read keys encrypted before a rotation).
    "OIDC_KEY_ENCRYPTION_SECRET": None,
    # Earlier values of OIDC_KEY_ENCRYPTION_SECRET, which still decrypt, like
    # SECRET_KEY_FALLBACKS; drop one after `manage.py rotatekeys --reencrypt`.
    "OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS": [],
    # Keys managed outside Django: a list of {"kid": ..., "algorithm": ...,
    # "private_key": PEM, "active": True}; "active": False publishes a key
    # without signing with it (one being introduced or retired). Set, it
    # replaces the database keys entirely.
    "OIDC_SIGNING_KEYS": None,
    # Dotted path of the class that gives a user's claims (claims.py).
    "OIDC_CLAIMS_PROVIDER": "oauth_provider.claims.UserClaims",
    # Subject type of new clients: "public" or "pairwise" (Core §8).
    "OIDC_DEFAULT_SUBJECT_TYPE": "public",
    # Back-Channel Logout 1.0: each POST's timeout, and retries of a failed one.
    "BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS": 5,
    "BACKCHANNEL_LOGOUT_RETRIES": 2,
    # The server fetches clients' sector identifier URIs and posts to their
    # back-channel logout URIs. False: for clients registered through
    # self-service (with an owner), only at public internet addresses, never
    # loopback, private networks or link-local (cloud metadata) ones; clients
    # an admin registered may use any address. True: any client may.
    "OUTBOUND_PRIVATE_ADDRESSES_ALLOWED": False,
    # Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
    # a client_id that is an https URL names a client described by the JSON
    # document at that URL, fetched by the server (client_metadata_documents.py).
    # Off: such a client_id is just an unknown client.
    "CLIENT_ID_METADATA_DOCUMENTS": False,
    # Hosts whose documents are accepted: exact names, or ".example.com" for
    # every host under example.com. Empty: any host not blocked.
    "CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS": [],
    # Hosts whose documents are refused, written the same way; wins over allowed.
    "CLIENT_ID_METADATA_DOCUMENT_BLOCKED_HOSTS": [],
    # A fetched document is used for as long as its Cache-Control max-age or
    # Expires says, but never less than the floor (so a client cannot make
    # every request a fetch) nor more than the cap (so changes, and a
    # document withdrawn, take effect), in seconds.
    "CLIENT_ID_METADATA_DOCUMENT_CACHE_MIN_SECONDS": 300,
    "CLIENT_ID_METADATA_DOCUMENT_CACHE_MAX_SECONDS": 24 * 3600,
    # Such clients wait for an admin's approval, like self-registered ones,
    # unless their host is in CLIENT_ID_METADATA_DOCUMENT_ALLOWED_HOSTS. Off:
    # the consent screen shows the client's host and that the site did not review it.
    "CLIENT_ID_METADATA_DOCUMENT_APPROVAL_REQUIRED": False,
    # Documents fetched (not served from the cache) because of one client
    # address, per window: each new https client_id costs a fetch.
    "CLIENT_ID_METADATA_DOCUMENT_MAX_FETCHES": 20,
    "CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW_SECONDS": 600,
    # Dynamic client registration (RFC 7591) and management (RFC 7592) at
    # /o/register/: "off" (no such endpoint), "initial_access_token" (a
    # bearer token an admin made, `manage.py createinitialaccesstoken`), or
    # "open" (anyone: the client name is whatever the registrant says).
    "REGISTRATION_POLICY": "off",
    # Registered clients stay inactive until an admin approves them, and a
    # change to what users see sends them back to review (as with
    # SELF_SERVICE_APPROVAL_REQUIRED, separate because nobody signed in).
    "REGISTRATION_APPROVAL_REQUIRED": True,
    # Registrations and updates (RFC 7591 §3, RFC 7592 §2.2) per client
    # address (an IPv6 client's /64) per window.
    "REGISTRATION_MAX_REQUESTS": 10,
    "REGISTRATION_REQUEST_WINDOW_SECONDS": 3600,
}

# REGISTRATION_POLICY values.
REGISTRATION_OFF = "off"
REGISTRATION_INITIAL_ACCESS_TOKEN = "initial_access_token"  # noqa: S105 - a policy name
REGISTRATION_OPEN = "open"
REGISTRATION_POLICIES = (REGISTRATION_OFF, REGISTRATION_INITIAL_ACCESS_TOKEN, REGISTRATION_OPEN)


class OAuthSettings:
    """Attribute access to ``settings.OAUTH_PROVIDER`` with ``DEFAULTS`` filled in."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._cached: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "OAUTH_PROVIDER", None) or {}
        # A non-dict value is reported by checks.E001; read defaults meanwhile.
        return value if isinstance(value, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name not in self.defaults:
            raise AttributeError(f"Invalid OAUTH_PROVIDER setting: {name!r}")
        # A copy, so that code changing what it read cannot change the defaults.
        value = self.user_settings.get(name, copy.deepcopy(self.defaults[name]))
        self._cached.add(name)
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        for name in self._cached:
            delattr(self, name)
        self._cached.clear()


oauth_settings = OAuthSettings(DEFAULTS)


@receiver(setting_changed)
def _reload_oauth_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "OAUTH_PROVIDER":
        oauth_settings.reload()
