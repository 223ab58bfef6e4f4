"""Headers for pages that show people security decisions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_deny


def sensitive_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Unframeable (clickjacking, RFC 6749 §10.13) and leaking no URL in Referer.

    ``X-Frame-Options`` for old browsers, CSP ``frame-ancestors`` for new ones;
    ``no-referrer`` keeps the request's parameters out of other sites' logs.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return xframe_options_deny(wrapper)
