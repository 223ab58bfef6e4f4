from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from example_project.api.views import MeView, NoteListView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("callback/", TemplateView.as_view(template_name="callback.html"), name="callback"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/me/", MeView.as_view(), name="api-me"),
    path("api/notes/", NoteListView.as_view(), name="api-notes"),
    path("o/", include("oauth_provider.urls")),
    path("", include("oauth_provider.urls.well_known")),
]
