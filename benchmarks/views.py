"""The two API views every ratio is measured against: identical but for protection."""

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_provider.rest_framework.authentication import BearerTokenAuthentication
from oauth_provider.rest_framework.permissions import HasScope


class OpenView(APIView):
    """The baseline: a DRF view with no authentication at all."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"hello": "world"})


class ProtectedView(OpenView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasScope]
    required_scopes = ["read"]
