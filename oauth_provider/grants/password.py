"""Resource owner password credentials grant (RFC 6749 §4.3). Legacy: off by default.

"The resource owner password credentials grant type is suitable in cases
where the resource owner has a trust relationship with the client, such as
the device operating system or a highly privileged application." RFC 9700
§2.4 says it "MUST NOT be used": it is here for legacy first-party clients and
runs only when ``"password"`` is both in ``OAUTH_PROVIDER["GRANT_TYPES"]`` and
in the client's grant types.
"""

from __future__ import annotations

import unicodedata

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from .. import throttling
from ..errors import InvalidGrant
from ..issuance import TokenResponse, issue_tokens
from ..payload import TokenRequest
from ..resources import resolve_resources
from ..scopes import resolve_scope
from ..settings import PASSWORD
from .base import Grant

# One description for every failure, so that a response never tells whether
# the username exists, the password was wrong or the account is disabled.
WRONG_CREDENTIALS = _("The username or password is incorrect.")


class PasswordGrant(Grant):
    """The token endpoint request of §4.3.2: ``username``, ``password`` and an optional ``scope``."""

    grant_type = PASSWORD
    parameters = frozenset({"username", "password", "scope"})

    @sensitive_variables("password", "request")
    def handle(self, request: TokenRequest) -> TokenResponse:
        username, password = request.require("username"), request.require("password")
        # The scope first: a request that would fail anyway costs no password check.
        scopes = resolve_scope(request.params.get("scope"), request.client)
        resources = resolve_resources(request.resources, scopes)
        # §4.3.2: "the authorization server MUST protect the endpoint against
        # brute force attacks". Failures are limited per account (the username
        # in NFKC, stripped and casefolded: backends often find an account
        # however its name was typed) and per address, counted
        # before the password is checked so that a burst of guesses cannot
        # get more than the limit checked; refused, it answers 429.
        # Going through django.contrib.auth runs every configured backend with
        # the HTTP request and sends user_login_failed, which is what lockout
        # packages hook into.
        meta = request.http_request.META if request.http_request is not None else {}
        account = unicodedata.normalize("NFKC", username).strip().casefold()
        with throttling.reserve(throttling.PASSWORD_GRANT, account, meta, counted=(InvalidGrant,)):
            user = authenticate(request.http_request, username=username, password=password)
            # Backends such as AllowAllUsersModelBackend do return inactive users.
            if user is None or not user.is_active:
                raise InvalidGrant(WRONG_CREDENTIALS)
        # §4.3.3: a refresh token is issued when the client may use one.
        return issue_tokens(
            client=request.client,
            user=user,
            scopes=scopes,
            resources=resources,
            grant_type=self.grant_type,
            issuer=self.issuer(request),
        )
