"""``ui_locales``: the language a client asks the server's pages to be shown in.

OpenID Connect Core 1.0 §3.1.2.1 defines it for authentication requests
(the consent screen), and RP-Initiated Logout 1.0 §2 for logout requests
(the confirmation and signed-out pages): "End-User's preferred languages and
scripts for the user interface, represented as a space-separated list of
BCP47 [RFC5646] language tag values, ordered by preference."
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation


def preferred_language(ui_locales: str | None) -> str | None:
    """The first language of ``ui_locales`` the site offers (``LANGUAGES``),
    a regional tag falling back to its language ("fr-CA" -> "fr"); None when
    it offers none of them."""
    for tag in (ui_locales or "").split():
        try:
            return translation.get_supported_language_variant(tag.lower())
        except LookupError:
            continue
    return None


def render_in(
    language: str | None, request: HttpRequest, template_name: str, context: dict[str, Any]
) -> HttpResponse:
    """``render``, in ``language`` when a client asked for one the site
    offers (``preferred_language``): this page only, with its
    ``Content-Language``. The user's own choice (language cookie,
    ``Accept-Language``) is left as it was."""
    if language is None:
        return render(request, template_name, context)
    with translation.override(language):
        response = render(request, template_name, context)
    response["Content-Language"] = language
    return response
