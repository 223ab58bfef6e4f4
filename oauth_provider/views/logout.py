"""/o/logout/: RP-Initiated Logout 1.0's end_session_endpoint (the logic is in ``logout.py``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import resolve_url
from django.views import View
from django.views.decorators.csrf import csrf_protect

from .. import logout
from ..errors import OAuthError
from ..metadata import issuer
from ..responses import BAD_REQUEST_TEMPLATE, error_page, redirect_with_params
from ..settings import oauth_settings
from ..ui_locales import render_in
from .decorators import SensitivePageMixin, cross_site_page

# The confirmation form's button: a POST carrying it is the user's answer,
# which must pass Django's CSRF check; any other POST is a client's request.
CONFIRM = ("action", "logout")


class LogoutView(SensitivePageMixin, View):
    """GET or POST: a logout request from a client (§2). The user is signed
    out at once when the id_token_hint ties the request to their session,
    and otherwise asked on a confirmation page whose POST (CSRF-protected)
    signs them out. Then: the post_logout_redirect_uri with ``state``, or a
    "signed out" page."""

    page_decorator = staticmethod(cross_site_page)
    confirm_template_name = "oauth_provider/logout_confirm.html"
    logged_out_template_name = "oauth_provider/logged_out.html"
    error_template_name = BAD_REQUEST_TEMPLATE
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not oauth_settings.OIDC_ENABLED:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.logout_request(request, request.GET)

    def post(self, request: HttpRequest) -> HttpResponse:
        name, value = CONFIRM
        if request.POST.getlist(name) == [value]:
            return csrf_protect(self.confirmed)(request)
        return self.logout_request(request, request.POST)

    def logout_request(self, request: HttpRequest, data: QueryDict) -> HttpResponse:
        try:
            logout_request = logout.parse(data, issuer(request))
        except OAuthError as error:
            return error_page(request, error, self.error_template_name)
        if request.user.is_authenticated and not logout.is_for_this_session(logout_request, request):
            return render_in(
                logout_request.language,
                request,
                self.confirm_template_name,
                {
                    "client": logout_request.shown_client,
                    "fields": logout_request.form_fields(),
                    "cancel_url": resolve_url(settings.LOGIN_REDIRECT_URL),
                },
            )
        return self.sign_out(request, logout_request)

    def confirmed(self, request: HttpRequest) -> HttpResponse:
        try:
            logout_request = logout.parse(request.POST, issuer(request))
        except OAuthError as error:
            return error_page(request, error, self.error_template_name)
        return self.sign_out(request, logout_request)

    def sign_out(self, request: HttpRequest, logout_request: logout.LogoutRequest) -> HttpResponse:
        if request.user.is_authenticated:
            # Django's logout sends user_logged_out, on which the session's
            # sign-ins end and their clients are told (backchannel_logout).
            auth_logout(request)
        uri = logout_request.post_logout_redirect_uri
        if uri is not None:
            return redirect_with_params(uri, {"state": logout_request.state})
        return render_in(
            logout_request.language,
            request,
            self.logged_out_template_name,
            {"client": logout_request.shown_client},
        )
