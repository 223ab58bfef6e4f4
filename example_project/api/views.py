"""The example site's own API, protected by oauth_provider."""

from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_provider.rest_framework.permissions import HasScope

from .models import Note


class MeView(APIView):
    """The token's user; a client-only token has none, so it gets 403."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["read"]

    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username()})


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "text", "created_at"]


class NoteListView(generics.ListCreateAPIView):
    """A user's notes, or for a client-only token the notes that client wrote."""

    serializer_class = NoteSerializer
    permission_classes = [HasScope]
    required_scopes = {"GET": ["read"], "POST": ["write"]}

    def owner(self) -> dict:
        token = self.request.auth
        if token.user is None:
            return {"user": None, "client": token.client}
        return {"user": token.user}

    def get_queryset(self):
        return Note.objects.filter(**self.owner())

    def perform_create(self, serializer: NoteSerializer) -> None:
        serializer.save(user=self.request.auth.user, client=self.request.auth.client)
