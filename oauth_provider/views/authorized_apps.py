"""/o/authorized-apps/: the apps a signed-in user has authorized, and withdrawing them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import generic

from .. import primary
from ..consents import authorized_apps, withdraw_consent
from ..metadata import issuer
from ..models import Consent
from ..scopes import describe
from ..text import isolate
from .base import AccountPageMixin


class OwnConsentMixin(AccountPageMixin):
    """Only the signed-in user's own consents: anyone else's is a 404."""

    def get_queryset(self) -> QuerySet[Consent]:
        return authorized_apps(self.request.user)


class AuthorizedAppListView(OwnConsentMixin, generic.ListView):
    template_name = "oauth_provider/authorized_apps.html"
    context_object_name = "consents"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for consent in context["consents"]:
            consent.described_scopes = describe(consent.scopes)
        return context


class WithdrawConsentView(OwnConsentMixin, generic.DetailView):
    """GET asks to confirm; POST withdraws: the consent is forgotten and every
    token the app holds for this user stops working at once."""

    template_name = "oauth_provider/consent_confirm_withdraw.html"
    context_object_name = "consent"

    def get_queryset(self) -> QuerySet[Consent]:
        # The consent withdrawn is the primary's: one given a moment ago may
        # not have reached a replica yet.
        return super().get_queryset().using(primary.alias(Consent))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(described_scopes=describe(self.object.scopes), **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        consent: Consent = self.get_object()
        withdraw_consent(consent, issuer=issuer(request))
        messages.success(
            request,
            _("%(name)s can no longer access your account.") % {"name": isolate(consent.client.name)},
            fail_silently=True,
        )
        return HttpResponseRedirect(reverse("oauth_provider:authorized_apps"))
