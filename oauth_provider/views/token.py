"""The token endpoint (RFC 6749 §3.2)."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.request import Request
from rest_framework.response import Response

from .. import cors, resources
from ..client_auth import CLIENT_PARAMETERS, authenticate_client
from ..errors import InvalidRequest, UnauthorizedClient
from ..grants import get_grant
from ..metadata import assertion_audiences
from ..payload import TokenRequest, multiple_values, single_values
from ..responses import token_response
from .base import ProtocolView


@method_decorator(cors.client_origins, name="dispatch")
# Error reports (e.g. Django's AdminEmailHandler) must not carry credentials.
@method_decorator(
    sensitive_post_parameters(
        "client_secret",
        "client_assertion",
        "code",
        "code_verifier",
        "refresh_token",
        "password",
        "device_code",
    ),
    name="dispatch",
)
class TokenView(ProtocolView):
    """Parse the request, authenticate the client, hand over to the grant (§3.2)."""

    def post(self, request: Request) -> Response:
        grant_type = single_values(request.data, ["grant_type"]).get("grant_type")
        if grant_type is None:
            raise InvalidRequest(_("The grant_type parameter is required."))
        grant = get_grant(grant_type)
        params = single_values(request.data, grant.parameters | CLIENT_PARAMETERS)
        client = authenticate_client(request.META, params, assertion_audiences(request._request))
        cors.allow_client(request._request, client)
        if not client.allows_grant_type(grant_type):
            raise UnauthorizedClient
        # RFC 8707 §2: any grant may name the resources the token is for.
        audience = tuple(multiple_values(request.data, resources.PARAMETER))
        token_request = TokenRequest(grant_type, client, params, audience, http_request=request._request)
        return token_response(grant.handle(token_request))
