"""The revocation endpoint (RFC 7009)."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.request import Request
from rest_framework.response import Response

from .. import cors
from ..client_auth import CLIENT_PARAMETERS, authenticate_client
from ..errors import TokenOfAnotherClient
from ..metadata import assertion_audiences
from ..payload import single_values
from ..responses import NO_STORE
from ..revocation import revoke_requested_token
from ..token_lookup import TOKEN_PARAMETERS, find_token, require_token
from .base import ProtocolView


@method_decorator(cors.client_origins, name="dispatch")
# Error reports (e.g. Django's AdminEmailHandler) must not carry credentials.
@method_decorator(sensitive_post_parameters("token", "client_secret", "client_assertion"), name="dispatch")
class RevokeView(ProtocolView):
    """Client-authenticated revocation of one of the client's own tokens (RFC 7009 §2).

    Public clients authenticate with their client_id alone (§2.1: the server
    "validates the client credentials (in case of a confidential client)").
    """

    def post(self, request: Request) -> Response:
        params = single_values(request.data, TOKEN_PARAMETERS | CLIENT_PARAMETERS)
        client = authenticate_client(request.META, params, assertion_audiences(request._request))
        cors.allow_client(request._request, client)
        token = find_token(require_token(params), params.get("token_type_hint"))
        # §2.2: "invalid tokens do not cause an error response since the client
        # cannot handle such an error in a reasonable way".
        if token is not None:
            # §2.1: another client's token is refused, and left untouched.
            if token.client_id != client.pk:
                raise TokenOfAnotherClient
            revoke_requested_token(token)
        # §2.2: "The content of the response body is ignored by the client".
        return Response(headers=NO_STORE)
