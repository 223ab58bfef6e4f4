"""The one place where protocol results and errors become HTTP responses."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from .errors import (
    InvalidRequest,
    MethodNotAllowed,
    OAuthError,
    RequestTooLarge,
    ServerError,
    TooManyRequests,
)

logger = logging.getLogger("oauth_provider")

# RFC 6749 §5.1: "The authorization server MUST include the HTTP
# "Cache-Control" response header field with a value of "no-store" in any
# response containing tokens, credentials, or other sensitive information".
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_response(data: Mapping[str, object]) -> Response:
    """A successful token endpoint response (RFC 6749 §5.1)."""
    return Response(dict(data), headers=NO_STORE)


def client_fault(exc: Exception) -> OAuthError | None:
    """The OAuthError for an exception Django or DRF raise because the client
    sent a request they refuse to read, or None for any other exception.

    These are what Django itself answers with 400 (``SuspiciousOperation``,
    ``BadRequest``, ``MultiPartParserError``; ``request.POST`` and
    ``request.GET`` raise them lazily, on first use): a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, more fields than
    ``DATA_UPLOAD_MAX_NUMBER_FIELDS``, a body that is not UTF-8 or not
    parseable, a body cut short (``UnreadablePostError``); and DRF's parse and
    content-type errors. The client's mistake, not the server's: logged as
    such (never at ERROR), the exception's text left out, since it may quote
    the request.
    """
    if isinstance(exc, RequestDataTooBig):
        error: OAuthError = RequestTooLarge()
    elif isinstance(exc, TooManyFieldsSent):
        error = InvalidRequest(_("The request has too many parameters."))
    elif isinstance(exc, (drf_exceptions.ParseError, drf_exceptions.UnsupportedMediaType)):
        error = InvalidRequest(_("The request body must be application/x-www-form-urlencoded."))
    elif isinstance(exc, (SuspiciousOperation, BadRequest, MultiPartParserError, UnreadablePostError)):
        error = InvalidRequest(_("The request could not be read."))
    else:
        return None
    logger.info("Refused a request the client got wrong (%s)", type(exc).__name__)
    return error


def as_oauth_error(exc: Exception) -> OAuthError:
    """Map any exception raised while serving a protocol endpoint to an OAuthError.

    Requests Django or DRF refuse to read become ``invalid_request``
    (``client_fault``); anything unexpected is logged and becomes a
    detail-free ``server_error``.
    """
    if isinstance(exc, OAuthError):
        return exc
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return MethodNotAllowed()
    error = client_fault(exc)
    if error is not None:
        return error
    logger.exception("Unexpected error in an OAuth endpoint")
    return ServerError()


def error_json(request: HttpRequest, exc: Exception) -> Response:
    """RFC 6749 §5.2 error response, as JSON with ``no-store``."""
    error = as_oauth_error(exc)
    headers = {**NO_STORE, **error.headers()}
    # §5.2: if the client used the Authorization header, a 401 "MUST include
    # the "WWW-Authenticate" response header field matching the authentication scheme".
    if (
        "WWW-Authenticate" not in headers
        and error.status_code == 401
        and request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("basic")
    ):
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    body = {"error": error.error, "error_description": error.wire_description()}
    return Response(body, status=error.status_code, headers=headers)


class OAuthRedirect(HttpResponseRedirect):
    """A redirect that also allows the private-use schemes of native apps.

    Which schemes may be used is decided at registration (``redirect_uris``);
    we only redirect to URIs registered for the client.
    """

    def __init__(self, redirect_to: str) -> None:
        self.allowed_schemes = [urlsplit(redirect_to).scheme]
        super().__init__(redirect_to, headers=NO_STORE)


def redirect_with_params(
    redirect_uri: str, params: Mapping[str, str | None], *, fragment: bool = False
) -> OAuthRedirect:
    """Redirect to ``redirect_uri`` with ``params`` added to its query, or
    with ``fragment`` as its fragment.

    RFC 6749 §3.1.2: the query component of a registered URI "MUST be
    retained when adding additional query parameters". The implicit grant
    answers in the fragment (§4.2.2) so that the token never reaches the
    client's server or its logs; registered URIs have no fragment of their own.
    """
    parts = urlsplit(redirect_uri)
    added = [(key, value) for key, value in params.items() if value is not None]
    if fragment:
        return OAuthRedirect(urlunsplit(parts._replace(fragment=urlencode(added))))
    query = parse_qsl(parts.query, keep_blank_values=True) + added
    return OAuthRedirect(urlunsplit(parts._replace(query=urlencode(query))))


def error_redirect(
    redirect_uri: str, error: OAuthError, *, state: str | None, iss: str, fragment: bool = False
) -> OAuthRedirect:
    """RFC 6749 §4.1.2.1 error response, with ``iss`` (RFC 9207 §2); in the
    fragment for the implicit grant (§4.2.2.1)."""
    return redirect_with_params(
        redirect_uri,
        {"error": error.error, "error_description": error.wire_description(), "state": state, "iss": iss},
        fragment=fragment,
    )


def error_page(
    request: HttpRequest, error: OAuthError, template_name: str, status: int = 400
) -> HttpResponse:
    """Tell the user about an error that must not be redirected (§4.1.2.1), or
    about a request a page refuses (``BAD_REQUEST_TEMPLATE``). A rate limit
    stays a 429 with its ``Retry-After`` on a page too."""
    if isinstance(error, TooManyRequests):
        status = error.status_code
    response = render(request, template_name, {"error": error}, status=status)
    for name, value in error.headers().items():
        response.headers.setdefault(name, value)
    return response


# The page people get for a request Django refuses to read, or a method a page does not take.
BAD_REQUEST_TEMPLATE = "oauth_provider/bad_request.html"
