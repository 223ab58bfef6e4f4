"""What every page that shows people a security decision shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from ..errors import MethodNotAllowed
from ..responses import BAD_REQUEST_TEMPLATE, client_fault, error_page

View = Callable[..., HttpResponse]

# The value of the "not you?" button on the consent and device pages.
SWITCH_ACCOUNT = "switch_account"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _privacy_headers(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        # X-Frame-Options (from xframe_options_deny) for old browsers, CSP
        # frame-ancestors for new ones.
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        # The page's URL carries the authorization request; no link or
        # resource on it may learn that URL from a Referer.
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def _same_origin_attested(view: View) -> View:
    """Give Django's CSRF check the Origin a no-referrer page's own POST lacks.

    Under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` and
    no Referer with a form POST (Fetch, "serializing a request origin"), and
    Django's CSRF check refuses both. ``Sec-Fetch-Site: same-origin`` says
    the request came from a page of this origin; only the browser sets it
    (a forbidden header name no page can write), so it stands in for the
    missing Origin. The CSRF token is still required.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        meta = request.META
        if (
            request.method not in SAFE_METHODS
            and meta.get("HTTP_SEC_FETCH_SITE") == "same-origin"
            and meta.get("HTTP_ORIGIN", "null") == "null"
        ):
            meta["HTTP_ORIGIN"] = f"{request.scheme}://{request.get_host()}"
        return view(request, *args, **kwargs)

    return wrapper


def _refuse_unreadable_requests(view: View) -> View:
    """Answer a request Django refuses to read with a page, not Django's bare 400.

    ``request.POST`` and ``request.GET`` raise on a body that is too large,
    has too many fields or cannot be parsed, wherever they are first read:
    in the CSRF check or in the view. Other exceptions are left to Django.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Exception as exc:
            error = client_fault(exc)
            if error is None:
                raise
            return error_page(request, error, BAD_REQUEST_TEMPLATE, status=error.status_code)

    return wrapper


def sensitive_page(view: View) -> View:
    """Never cached, unframeable (RFC 6749 §10.13), no Referer, CSRF-protected.

    The CSRF check runs here rather than in ``CsrfViewMiddleware`` (which
    runs before any view decorator) so that ``_same_origin_attested`` can
    run before it.
    """
    # The CSRF check is where a POST body is first read: unreadable requests are caught outside it.
    protected = _privacy_headers(_refuse_unreadable_requests(csrf_protect(view)))
    return csrf_exempt(never_cache(xframe_options_deny(_same_origin_attested(protected))))


class SensitivePageMixin:
    """``sensitive_page`` around a class-based view's whole ``as_view()``.

    Not on ``dispatch``: ``as_view`` copies the CSRF exemption from the final
    class's ``dispatch`` only, so a subclass overriding it would silently get
    Django's middleware check, which refuses these pages' own POSTs.
    """

    @classmethod
    def as_view(cls, **initkwargs: Any) -> View:
        return sensitive_page(super().as_view(**initkwargs))  # type: ignore[misc]

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """A readable 405 page, with the ``Allow`` header Django's empty one has."""
        allowed = super().http_method_not_allowed(request, *args, **kwargs)  # type: ignore[misc]
        response = error_page(request, MethodNotAllowed(), BAD_REQUEST_TEMPLATE, status=405)
        response["Allow"] = allowed["Allow"]
        return response


def switch_account(request: HttpRequest, next_url: str) -> HttpResponse:
    """ "Not you?": sign the user out and back in, then return to ``next_url``
    (always a path of this site, built by the caller)."""
    logout(request)
    return redirect_to_login(next_url)
