from django.urls import path

from .views import MeView, NotesView

urlpatterns = [
    path("api/me/", MeView.as_view()),
    path("api/notes/", NotesView.as_view()),
]
