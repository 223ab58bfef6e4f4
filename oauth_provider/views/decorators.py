"""Headers for pages that show people security decisions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_deny


def sensitive_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Unframeable (clickjacking, RFC 6749 §10.13) and leaking no URL in Referer.

    ``X-Frame-Options`` for old browsers, CSP ``frame-ancestors`` for new ones.
    ``same-origin`` keeps the page's URL (and its parameters) out of every
    other site's Referer. Not ``no-referrer``: under that policy browsers send
    ``Origin: null`` with the page's own form POST, which Django's CSRF
    protection rightly refuses.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    return xframe_options_deny(wrapper)
