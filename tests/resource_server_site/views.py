"""The resource server's API: who the token speaks for, and a write."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    required_scopes = ["read"]

    def get(self, request: Request) -> Response:
        token = request.auth
        return Response(
            {
                "username": request.user.username if request.user.is_authenticated else None,
                "client_id": token.client_id,
                "scope": token.scope,
                "audience": list(token.audience),
            }
        )


class NotesView(APIView):
    required_scopes = {"GET": ["read"], "POST": ["write"]}

    def get(self, request: Request) -> Response:
        return Response([])

    def post(self, request: Request) -> Response:
        return Response({"saved": True}, status=201)
