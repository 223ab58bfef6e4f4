"""A resource server on another machine: the DRF classes validate tokens of
a remote authorization server (``RESOURCE_SERVER_ISSUER``), knowing only
its issuer URL and, for opaque tokens, this server's own client credentials.

- ``documents``: HTTP to the issuer, and its metadata (RFC 8414, OpenID
  Connect Discovery), whose ``issuer`` must be the configured one.
- ``jwks``: its signing keys, cached per ``Cache-Control``; an unknown
  ``kid`` refetches them, at most once per ``RESOURCE_SERVER_JWKS_REFRESH_SECONDS``.
- ``introspection``: RFC 7662 calls for opaque tokens, answers cached in process.
- ``validation``: ``authenticate(value) -> bearer.BearerToken``; a JWT
  verified with the key set held is not verified again while that set is
  (``jwt_access_tokens.verified_claims``).

Nothing here imports a model: a project without ``oauth_provider`` in
``INSTALLED_APPS`` uses it (``apps.py`` only adds the settings checks).
"""

from . import documents, introspection, jwks
from .documents import IssuerUnavailable
from .validation import TokenUser, authenticate

__all__ = ["IssuerUnavailable", "TokenUser", "authenticate", "forget"]


def forget() -> None:
    """Drop everything this process remembers of the issuer: metadata, keys,
    introspection answers (tests; a deployment never needs it)."""
    documents.forget()
    jwks.forget()
    introspection.forget()
