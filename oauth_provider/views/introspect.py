"""The introspection endpoint (RFC 7662)."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.request import Request
from rest_framework.response import Response

from ..client_auth import CLIENT_PARAMETERS
from ..introspection import authorize_caller, introspection_response
from ..payload import single_values
from ..responses import NO_STORE
from ..token_lookup import TOKEN_PARAMETERS, find_token, require_token
from .base import ProtocolView


# Error reports (e.g. Django's AdminEmailHandler) must not carry credentials.
@method_decorator(sensitive_post_parameters("token", "client_secret", "client_assertion"), name="dispatch")
class IntrospectView(ProtocolView):
    """Tell an authorized protected resource whether a token is active (§2)."""

    def post(self, request: Request) -> Response:
        params = single_values(request.data, TOKEN_PARAMETERS | CLIENT_PARAMETERS)
        authorize_caller(request, params)
        token = find_token(require_token(params), params.get("token_type_hint"))
        # §2.2 answers describe tokens: RFC 6749 §5.1 asks for no-store on those.
        return Response(introspection_response(token, request), headers=NO_STORE)
