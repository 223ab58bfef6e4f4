"""The device authorization endpoint and the verification page (RFC 8628 §3.1-§3.3)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.request import Request
from rest_framework.response import Response

from .. import device, resources, throttling
from ..authorization import consent_context
from ..client_auth import authenticate_client
from ..consents import previous_consent
from ..errors import TooManyRequests, UnauthorizedClient, UnsupportedGrantType
from ..metadata import endpoint_url
from ..models import DeviceAuthorization
from ..payload import INVALID_CHARACTERS, MAX_LENGTHS, multiple_values, single_values
from ..responses import NO_STORE
from ..scopes import resolve_scope
from ..settings import DEVICE_CODE, oauth_settings
from .base import ProtocolView
from .decorators import SWITCH_ACCOUNT, SensitivePageMixin, switch_account

PARAMETERS = ("client_id", "client_secret", "scope")
LIMITED = _("Too many wrong codes were entered. Wait a few minutes, then try again.")


@method_decorator(sensitive_post_parameters("client_secret"), name="dispatch")
class DeviceAuthorizationView(ProtocolView):
    """§3.1-§3.2: a device asks for a device code and a user code."""

    def post(self, request: Request) -> Response:
        params = single_values(request.data, PARAMETERS)
        # §3.2 answers errors with the token endpoint's codes (RFC 6749 §5.2):
        # a server that does not offer the grant "does not support" it, the
        # same answer its token endpoint gives; a client that may not use it
        # is "not authorized to use this authorization grant type".
        if DEVICE_CODE not in oauth_settings.GRANT_TYPES:
            raise UnsupportedGrantType
        # §3.1: "The client authentication requirements of Section 3.2.1 of
        # [RFC6749] apply": public clients send their client_id only.
        client = authenticate_client(request.META, params)
        # A client awaiting review keeps polling what users approved before, but starts nothing new.
        if not client.allows_grant_type(DEVICE_CODE) or not client.accepts_new_authorizations:
            raise UnauthorizedClient
        # Anyone may ask on behalf of a public client: requests are limited
        # per client and per address, and device.start caps pending ones.
        throttling.count_request(throttling.DEVICE_AUTHORIZATION, client.client_id, request.META)
        scopes = resolve_scope(params.get("scope"), client)
        # RFC 8707 §2 at the device authorization request, as at the authorization endpoint.
        audience = resources.resolve_resources(multiple_values(request.data, resources.PARAMETER), scopes)
        body = device.start(client, scopes, audience, verification_uri=endpoint_url(request, "device"))
        # The body carries the device_code, a credential (RFC 6749 §5.1).
        return Response(body, headers=NO_STORE)


@method_decorator(sensitive_post_parameters("user_code"), name="dispatch")
class DeviceVerificationView(SensitivePageMixin, View):
    """The ``verification_uri`` (§3.3): a signed-in user enters a user code,
    sees the consent screen and approves or denies the device.

    ``?user_code=`` (``verification_uri_complete``, §3.3.1) only fills in the
    form: the user submits it and decides on the consent screen, so a link
    alone never authorizes a device (§5.4, remote phishing).
    """

    template_name = "oauth_provider/device.html"
    consent_template_name = "oauth_provider/device_consent.html"
    done_template_name = "oauth_provider/device_done.html"
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            # Only shows "try later" instead of the form: post() reserves each guess.
            throttling.check(throttling.USER_CODE, guesser(request), request.META)
        except TooManyRequests as error:
            return self.limited_page(request, error)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            typed = typed_user_code(request.GET)
            prefill = device.format_user_code(device.normalize_user_code(typed))
        except device.UserCodeError:
            prefill = ""
        return self.entry_page(request, user_code=prefill, prefilled=bool(prefill))

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("action") == SWITCH_ACCOUNT:
            return switch_account(request, request.path)
        typed = ""
        try:
            # §5.1: a wrong code (InvalidUserCode) counts against the user and
            # the address, reserved before the lookup so that concurrent
            # guesses cannot get past the limit.
            with throttling.reserve(
                throttling.USER_CODE, guesser(request), request.META, counted=(device.InvalidUserCode,)
            ):
                typed = typed_user_code(request.POST)
                authorization = device.find_pending(typed)
            shown = device.format_user_code(device.normalize_user_code(typed))
            action = decision(request.POST)
            if action is None:
                return self.consent_page(request, authorization, shown)
            if action == "allow":
                device.approve(authorization, request.user)
            else:
                device.deny(authorization, request.user)
        except TooManyRequests as error:
            # Refused before any lookup, so a guesser learns nothing more (§5.1).
            return self.limited_page(request, error)
        except device.UserCodeError as error:
            # What was typed goes back into the form to be corrected, minus
            # characters no code contains and no page should carry.
            echo = INVALID_CHARACTERS.sub("", typed)[: MAX_LENGTHS["user_code"]]
            return self.entry_page(request, user_code=echo, error=error.message)
        context = {"client": authorization.client, "approved": action == "allow"}
        return render(request, self.done_template_name, context)

    def entry_page(
        self,
        request: HttpRequest,
        *,
        error: str | Promise | None = None,
        status: int | None = None,
        **context: object,
    ) -> HttpResponse:
        """The form to type a code into; with an error it answers 400 unless told otherwise."""
        status = status or (400 if error else 200)
        return render(request, self.template_name, {"error": error, **context}, status=status)

    def limited_page(self, request: HttpRequest, error: TooManyRequests) -> HttpResponse:
        """429 with ``Retry-After`` (RFC 6585 §4) and a message instead of the form."""
        response = self.entry_page(request, error=LIMITED, limited=True, status=429)
        for name, value in error.headers().items():
            response[name] = value
        return response

    def consent_page(
        self, request: HttpRequest, authorization: DeviceAuthorization, shown: str
    ) -> HttpResponse:
        """The authorization endpoint's consent screen, carrying the user code.

        Shown even when the user consented before or the client skips consent:
        §5.4 wants the user to confirm every device they authorize.
        """
        consent = previous_consent(authorization.client, request.user)
        context = consent_context(
            authorization.client, request.user, authorization.scopes, authorization.audience, consent
        )
        return render(request, self.consent_template_name, {**context, "user_code": shown})


def guesser(request: HttpRequest) -> str:
    """Whose user code guesses these are: the signed-in user's (the address is counted too)."""
    return str(request.user.pk)


def typed_user_code(data: QueryDict) -> str:
    """The ``user_code`` a form or link carries; sent twice, it is no code at all."""
    values = data.getlist("user_code")
    if len(values) > 1:
        raise device.InvalidUserCode
    return values[0] if values else ""


def decision(data: QueryDict) -> str | None:
    """The consent screen's button: None when the user only entered the code.

    As on the authorization endpoint, anything but one "allow" is a denial.
    """
    values = data.getlist("action")
    if not values:
        return None
    return values[0] if values == ["allow"] else "deny"
