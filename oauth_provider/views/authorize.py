"""The authorization endpoint and consent screen (RFC 6749 §3.1, §4.1.1-§4.1.2,
§4.2.1-§4.2.2; OpenID Connect Core 1.0 §3.1.2, §3.2.2, §3.3.2)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views import View

from .. import authentication_requests, authorization
from ..consents import previous_consent
from ..errors import AccessDenied, ConsentRequired, LoginRequired, OAuthError
from ..login_sessions import login_session
from ..metadata import issuer
from ..payload import AuthorizationRequest
from ..responses import error_page, error_redirect, redirect_with_params
from ..ui_locales import render_in
from .decorators import SWITCH_ACCOUNT, SensitivePageMixin, authorization_page

SIGN_IN_AGAIN = _("The user must sign in again or as another account, and prompt=none does not allow it.")


class AuthorizeView(SensitivePageMixin, View):
    """GET shows the consent screen; POST (to the same URL) records the decision,
    or signs the user out to sign in as someone else ("not you?"). A request
    sent by POST, in the body, is turned into the same GET first
    (``authorization_page``).

    The authorization request travels in the query string both times and is
    validated again on POST, so nothing the form carries is trusted. The
    code flow, the implicit grant and OpenID Connect's responses share the
    screen and the remembered consent; only the answer differs (a code in the
    query, tokens in the fragment).

    Before the screen, an OpenID Connect request may send the user to the
    login page (``LOGIN_URL``) and back to the same request: to sign in again
    (``prompt=login``, ``max_age``), or as the account the client names
    (``id_token_hint``). ``login_hint`` goes along as a query parameter of
    the login page, for its template to fill in the username.
    """

    page_decorator = staticmethod(authorization_page)
    template_name = "oauth_provider/authorize.html"
    error_template_name = "oauth_provider/authorize_error.html"
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            target = authorization.redirect_target(request.GET, request.META)
        except OAuthError as error:
            return error_page(request, error, self.error_template_name)
        try:
            authorization.check_request_length(request.get_full_path())
            auth_request = authorization.validate(request.GET, target, issuer=issuer(request))
            # Login comes after the request is known to be good, so a bad
            # link never sends a user through the login form.
            if not request.user.is_authenticated:
                if "none" in auth_request.prompts:
                    raise LoginRequired
                return self.sign_in(request, auth_request)
            if authentication_requests.sign_in_needed(request, auth_request):
                if "none" in auth_request.prompts:
                    raise LoginRequired(SIGN_IN_AGAIN)
                # Even when another account is wanted, the user stays signed in
                # until it signs in (which replaces the session): any site can
                # send them here with a hint or a claims request naming some
                # other sub, and signing out on that would be logout CSRF.
                return self.sign_in(request, auth_request)
            return super().dispatch(request, auth_request)
        except OAuthError as error:
            return error_redirect(
                target.redirect_uri, error, state=target.state, iss=issuer(request), fragment=target.fragment
            )

    def get(self, request: HttpRequest, auth_request: AuthorizationRequest) -> HttpResponse:
        consent = previous_consent(auth_request.client, request.user)
        if not authorization.needs_consent(auth_request, consent):
            return self.approve(request, auth_request)
        if "none" in auth_request.prompts:
            raise ConsentRequired
        context = authorization.consent_context(
            auth_request.client, request.user, auth_request.scopes, auth_request.resources, consent
        )
        # Named in "This app was not reviewed by ..." (client ID metadata documents).
        context["site_host"] = request.get_host()
        language = auth_request.openid.ui_language if auth_request.openid else None
        return render_in(language, request, self.template_name, context)

    def post(self, request: HttpRequest, auth_request: AuthorizationRequest) -> HttpResponse:
        actions = request.POST.getlist("action")
        # One button was pressed, or none: anything else is a denial.
        action = actions[0] if len(actions) == 1 else None
        if action == SWITCH_ACCOUNT:
            return self.sign_in(request, auth_request, switch=True)
        if action != "allow":
            if auth_request.openid is not None:
                authentication_requests.forget_demand(request)
            raise AccessDenied
        return self.approve(request, auth_request)

    def approve(self, request: HttpRequest, auth_request: AuthorizationRequest) -> HttpResponse:
        session = None
        if auth_request.openid is not None:
            session = login_session(request)
            authentication_requests.forget_demand(request)
        params = authorization.approve(
            auth_request, request.user, issuer=issuer(request), login_session=session
        )
        fragment = authorization.answers_in_fragment(auth_request.response_type)
        return redirect_with_params(
            auth_request.redirect_uri, {**params, "iss": issuer(request)}, fragment=fragment
        )

    def sign_in(
        self, request: HttpRequest, auth_request: AuthorizationRequest, *, switch: bool = False
    ) -> HttpResponse:
        """Send the user to the login page and back to this request; with
        ``switch``, sign them out first (their "not you?", a CSRF-checked POST).

        A request that wants a fresh login records that it sent the user
        away, so that it goes on once they are back signed in (never a loop).
        """
        if switch:
            logout(request)
        if authentication_requests.may_demand_fresh_login(auth_request):
            authentication_requests.demand_authentication(request)
        response = redirect_to_login(request.get_full_path())
        login_hint = auth_request.openid.login_hint if auth_request.openid else None
        if login_hint is not None:
            response["Location"] += "&" + urlencode({"login_hint": login_hint})
        return response
