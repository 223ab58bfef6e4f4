from django.urls import include, path

from .views import MeView, NotesView

urlpatterns = [
    path("api/me/", MeView.as_view()),
    path("api/notes/", NotesView.as_view()),
    path("", include("oauth_provider.remote_resource_server.urls")),
]
