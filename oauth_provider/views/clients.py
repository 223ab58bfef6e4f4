"""Developer self-service at /o/clients/: a signed-in user's own clients.

Every view looks clients up among the user's own, so another user's client
is a 404, never a 403 that would confirm it exists. A client secret is shown
once, in the response to the POST that made it (never through a redirect or
``django.contrib.messages``), on a page marked ``no-store``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import generic

from .. import primary
from ..forms import OwnClientForm
from ..metadata import endpoint_url, issuer, origin
from ..models import Client
from ..settings import oauth_settings
from ..text import isolate
from .base import AccountPageMixin

SHOW_ONCE_TEMPLATE = "oauth_provider/client_secret.html"


def show_secret(request: HttpRequest, client: Client, secret: str) -> HttpResponse:
    """The one page that shows a client's raw secret."""
    return render(request, SHOW_ONCE_TEMPLATE, {"client": client, "secret": secret, "self_service": True})


class OwnClientMixin(AccountPageMixin):
    """Signed in, self-service enabled, and only the user's own clients."""

    model = Client
    slug_field = slug_url_kwarg = "client_id"
    context_object_name = "client"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not oauth_settings.SELF_SERVICE_CLIENTS:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Client]:
        return Client.objects.filter(owner=self.request.user)

    def get_success_url(self) -> str:
        return reverse("oauth_provider:client_detail", args=[self.object.client_id])


class ChangingClientMixin(OwnClientMixin):
    """A page that changes or deletes the client reads it from the primary:
    one made a moment ago may not be on a replica yet, and a stale copy
    saved back would undo an administrator's change made in between."""

    def get_queryset(self) -> QuerySet[Client]:
        return super().get_queryset().using(primary.alias(Client))


class ClientListView(OwnClientMixin, generic.ListView):
    template_name = "oauth_provider/client_list.html"
    context_object_name = "clients"


class ClientFormMixin(ChangingClientMixin):
    form_class = OwnClientForm
    template_name = "oauth_provider/client_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "owner": self.request.user}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # The edit page says beforehand that a change sends the app back to review.
        return super().get_context_data(
            review_required=oauth_settings.SELF_SERVICE_APPROVAL_REQUIRED, **kwargs
        )

    def form_valid(self, form: OwnClientForm) -> HttpResponse:
        self.object = form.save()
        if form.new_secret:
            return show_secret(self.request, self.object, form.new_secret)
        return HttpResponseRedirect(self.get_success_url())


class ClientCreateView(ClientFormMixin, generic.CreateView):
    pass


class ClientUpdateView(ClientFormMixin, generic.UpdateView):
    pass


class ClientDetailView(OwnClientMixin, generic.DetailView):
    template_name = "oauth_provider/client_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # What a developer pastes into an OAuth library's configuration.
        endpoints = [
            (_("Authorization endpoint"), endpoint_url(self.request, "authorize")),
            (_("Token endpoint"), endpoint_url(self.request, "token")),
            (_("Revocation endpoint"), endpoint_url(self.request, "revoke")),
        ]
        try:
            metadata = origin(issuer(self.request)) + reverse("oauth-authorization-server")
            endpoints.append((_("Server metadata (RFC 8414)"), metadata))
        except NoReverseMatch:  # the host project did not include oauth_provider.urls.well_known
            pass
        return super().get_context_data(endpoints=endpoints, **kwargs)


class ClientSecretView(ChangingClientMixin, generic.DetailView):
    """GET asks to confirm; POST replaces the secret (the old one stops working)."""

    template_name = "oauth_provider/client_confirm_secret.html"

    def get_queryset(self) -> QuerySet[Client]:
        return super().get_queryset().filter(client_type=Client.ClientType.CONFIDENTIAL)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        client: Client = self.get_object()
        secret = client.set_secret()
        client.save(update_fields=["client_secret_hash", "updated_at"])
        return show_secret(request, client, secret)


class ClientDeleteView(ChangingClientMixin, generic.DeleteView):
    """Deleting a client deletes its codes and tokens with it."""

    template_name = "oauth_provider/client_confirm_delete.html"

    def get_success_url(self) -> str:
        return reverse("oauth_provider:client_list")

    def form_valid(self, form: Any) -> HttpResponse:
        name = self.object.name
        response = super().form_valid(form)
        messages.success(
            self.request, _("%(name)s was deleted.") % {"name": isolate(name)}, fail_silently=True
        )
        return response
