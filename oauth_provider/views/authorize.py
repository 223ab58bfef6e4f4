"""The authorization endpoint and consent screen (RFC 6749 §3.1, §4.1.1-§4.1.2, §4.2.1-§4.2.2)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from .. import authorization
from ..consents import previous_consent
from ..errors import AccessDenied, ConsentRequired, LoginRequired, OAuthError
from ..metadata import issuer
from ..payload import AuthorizationRequest
from ..responses import error_page, error_redirect, redirect_with_params
from .decorators import SWITCH_ACCOUNT, SensitivePageMixin, switch_account


class AuthorizeView(SensitivePageMixin, View):
    """GET shows the consent screen; POST (to the same URL) records the decision,
    or signs the user out to sign in as someone else ("not you?").

    The authorization request travels in the query string both times and is
    validated again on POST, so nothing the form carries is trusted. The
    code flow and the implicit grant share the screen and the remembered
    consent; only the answer differs (a code in the query, a token in the fragment).
    """

    template_name = "oauth_provider/authorize.html"
    error_template_name = "oauth_provider/authorize_error.html"
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            target = authorization.redirect_target(request.GET)
        except OAuthError as error:
            return error_page(request, error, self.error_template_name)
        try:
            authorization.check_request_length(request.get_full_path())
            auth_request = authorization.validate(request.GET, target)
            # Login comes after the request is known to be good, so a bad
            # link never sends a user through the login form.
            if not request.user.is_authenticated:
                if auth_request.prompt == "none":
                    raise LoginRequired
                return redirect_to_login(request.get_full_path())
            return super().dispatch(request, auth_request)
        except OAuthError as error:
            return error_redirect(
                target.redirect_uri, error, state=target.state, iss=issuer(request), fragment=target.fragment
            )

    def get(self, request: HttpRequest, auth_request: AuthorizationRequest) -> HttpResponse:
        consent = previous_consent(auth_request.client, request.user)
        if not authorization.needs_consent(auth_request, consent):
            return self.approve(request, auth_request)
        if auth_request.prompt == "none":
            raise ConsentRequired
        context = authorization.consent_context(
            auth_request.client, request.user, auth_request.scopes, consent
        )
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, auth_request: AuthorizationRequest) -> HttpResponse:
        actions = request.POST.getlist("action")
        # One button was pressed, or none: anything else is a denial.
        action = actions[0] if len(actions) == 1 else None
        if action == SWITCH_ACCOUNT:
            return switch_account(request, request.get_full_path())
        if action != "allow":
            raise AccessDenied
        return self.approve(request, auth_request)

    def approve(self, request: HttpRequest, auth_request: AuthorizationRequest) -> HttpResponse:
        params = authorization.approve(auth_request, request.user)
        fragment = auth_request.response_type in authorization.FRAGMENT_RESPONSE_TYPES
        return redirect_with_params(
            auth_request.redirect_uri, {**params, "iss": issuer(request)}, fragment=fragment
        )
