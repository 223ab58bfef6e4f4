"""The small base every grant type builds on (RFC 6749 §4)."""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, ClassVar, NoReturn, TypeVar

from django.dispatch import Signal
from django.utils.functional import Promise

from .. import id_tokens, primary
from ..compiled_lookup import USER_WITHOUT_PASSWORD, CompiledLookup, Join
from ..crypto import hash_secret
from ..errors import InvalidGrant
from ..issuance import TokenResponse
from ..metadata import issuer
from ..payload import TokenRequest
from ..revocation import RevocationReason, revoke_families
from ..settings import oauth_settings

if TYPE_CHECKING:
    from ..models.base import Credential

C = TypeVar("C", bound="Credential")


@functools.cache
def credential_lookup(model: type[Credential], related: tuple[str, ...]) -> CompiledLookup:
    """A code or token by hash, with its user (never the password hash) and ``related``."""
    joins = [USER_WITHOUT_PASSWORD, *(Join(name) for name in related)]
    return CompiledLookup(model, "token_hash", joins=joins)


class Grant:
    """One grant type of the token endpoint.

    ``grant_type`` is the RFC name; ``parameters`` allow-lists the form
    parameters the grant reads (client authentication parameters are added by
    the token endpoint). Everything else in the request is dropped.
    """

    grant_type: ClassVar[str]
    parameters: ClassVar[frozenset[str]] = frozenset()
    # Sent by ``replayed`` for grants that redeem a single-use credential.
    reuse_signal: ClassVar[Signal | None] = None

    def handle(self, request: TokenRequest) -> TokenResponse:
        raise NotImplementedError("Grant subclasses must implement handle(request).")

    def credential(
        self, model: type[C], request: TokenRequest, parameter: str, *, related: tuple[str, ...] = ()
    ) -> C:
        """The code or refresh token named by ``parameter``, issued to this client.

        §4.1.3 and §6 both require ensuring it "was issued to the authenticated
        client"; someone else's is answered exactly like an unknown one. Read
        from the primary: its redemption is decided on what it reads there.
        """
        lookup = credential_lookup(model, related)
        credential = lookup.get(hash_secret(request.require(parameter)), using=primary.alias(model))
        if credential is None or credential.client_id != request.client.pk:
            raise InvalidGrant
        return credential

    def issuer(self, request: TokenRequest) -> str | None:
        """The issuer that JWT access tokens (RFC 9068 §2.2 ``iss``) name:
        ``ISSUER``, or the token endpoint's scheme and host."""
        if request.http_request is None:
            return oauth_settings.ISSUER
        return issuer(request.http_request)

    def with_id_token(
        self, request: TokenRequest, response: TokenResponse, family_id: uuid.UUID, *, refreshed: bool = False
    ) -> TokenResponse:
        """``response`` with an ID token when its scope includes ``openid``
        and the authorization was an OpenID Connect authentication (Core 1.0
        §3.1.3.3, §12.2)."""
        return id_tokens.add_to_token_response(
            response,
            client=request.client,
            family_id=family_id,
            http_request=request.http_request,
            refreshed=refreshed,
        )

    def replayed(self, credential: Credential, description: str | Promise) -> NoReturn:
        """A code or rotated refresh token came back: one of two parties holds a
        stolen copy, so revoke everything descended from the authorization
        (RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""
        revoke_families([credential.family_id], reason=RevocationReason.REUSE)
        if self.reuse_signal is not None:
            self.reuse_signal.send(sender=type(credential), credential=credential)
        raise InvalidGrant(description)
