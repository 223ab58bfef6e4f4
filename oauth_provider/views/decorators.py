"""What every page that shows people a security decision shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_exempt, csrf_protect, requires_csrf_token

from ..errors import MethodNotAllowed
from ..responses import BAD_REQUEST_TEMPLATE, client_fault, error_page

View = Callable[..., HttpResponse]

# The value of the "not you?" button on the consent and device pages.
SWITCH_ACCOUNT = "switch_account"


def _privacy_headers(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        # X-Frame-Options (from xframe_options_deny) for old browsers, CSP
        # frame-ancestors for new ones.
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        # The page's URL carries the authorization request (state, and on
        # the way back a code): no other site may learn it from a Referer.
        # Same-origin requests keep theirs, so the browser still sends the
        # Origin and Referer that Django's CSRF check relies on.
        response.headers["Referrer-Policy"] = "same-origin"
        return response

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
    """Never cached, unframeable (RFC 6749 §10.13), no Referer to other
    sites, and CSRF-protected even where a host project lacks the middleware.

    Django's own CSRF check (``csrf_protect``, unmodified) runs here instead
    of in ``CsrfViewMiddleware``: the check is the first to read a POST body,
    and a body Django refuses to read must get this app's error page, which
    the middleware, running before any view decorator, would not give.
    """
    protected = _privacy_headers(_refuse_unreadable_requests(csrf_protect(view)))
    return csrf_exempt(never_cache(xframe_options_deny(protected)))


def cross_site_page(view: View) -> View:
    """``sensitive_page`` for a page other sites may POST to, which checks
    CSRF itself on the forms it shows.

    RP-Initiated Logout 1.0 §2: the OP "MUST support the use of the HTTP GET
    and POST methods" at the logout endpoint, and a client's POST comes from
    its own site, without this site's CSRF token. The view wraps the
    handler of its own form in ``csrf_protect``; ``requires_csrf_token``
    here only makes the token (and its cookie) available to the page.
    """
    protected = _privacy_headers(_refuse_unreadable_requests(requires_csrf_token(view)))
    return csrf_exempt(never_cache(xframe_options_deny(protected)))


def _posted_request_as_get(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method == "POST" and not request.GET and "client_id" in request.POST:
            # See authorization_page. 303: the browser follows with a GET.
            return HttpResponseRedirect(f"{request.path}?{request.POST.urlencode()}", status=303)
        return view(request, *args, **kwargs)

    return wrapper


def authorization_page(view: View) -> View:
    """``sensitive_page`` for the authorization endpoint, which also takes a
    request sent by POST.

    OpenID Connect Core 1.0 §3.1.2.1: "Authorization Servers MUST support the
    use of the HTTP GET and POST methods". Such a POST comes from the
    client's site, without this site's CSRF token, and carries the request
    in its form body (``client_id`` at least) rather than the query string.
    It is answered with a
    redirect to the same request as a GET, which is all a link to it would
    have done, so it needs no CSRF check; everything else (login, consent)
    happens on the GET. The consent screen's own POST keeps the request in
    its query string, and is CSRF-checked as before.
    """
    protected = _privacy_headers(_refuse_unreadable_requests(_posted_request_as_get(csrf_protect(view))))
    return csrf_exempt(never_cache(xframe_options_deny(protected)))


class SensitivePageMixin:
    """``sensitive_page`` (or ``page_decorator``) around a class-based view's
    whole ``as_view()``, so a subclass overriding ``dispatch`` cannot drop any of it."""

    page_decorator: Callable[[View], View] = staticmethod(sensitive_page)

    @classmethod
    def as_view(cls, **initkwargs: Any) -> View:
        return cls.page_decorator(super().as_view(**initkwargs))  # type: ignore[misc]

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
