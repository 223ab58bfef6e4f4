"""``ui_locales``: the language a client asks the server's pages to be shown in.

OpenID Connect Core 1.0 §3.1.2.1 defines it for authentication requests
(the consent screen), and RP-Initiated Logout 1.0 §2 for logout requests
(the confirmation and signed-out pages): "End-User's preferred languages and
scripts for the user interface, represented as a space-separated list of
BCP47 [RFC5646] language tag values, ordered by preference."
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

APP_LOCALE = Path(__file__).resolve().parent / "locale"


def supported_languages() -> list[str]:
    """The codes of ``LANGUAGES`` the pages can be shown in: English, the
    language they are written in, and those this app, or the site's
    ``LOCALE_PATHS``, has a catalog for. Django's default ``LANGUAGES``
    lists about a hundred; a page in none of them would be English anyway."""
    return _supported(
        tuple(code for code, _name in settings.LANGUAGES), tuple(map(str, settings.LOCALE_PATHS))
    )


@functools.lru_cache(maxsize=8)
def _supported(codes: tuple[str, ...], locale_paths: tuple[str, ...]) -> list[str]:
    catalogs = [APP_LOCALE, *map(Path, locale_paths)]

    def translated(code: str) -> bool:
        locale = translation.to_locale(code)
        names = {locale, locale.split("_")[0]}
        return any(
            (path / name / "LC_MESSAGES" / "django.mo").exists() for path in catalogs for name in names
        )

    return [code for code in dict.fromkeys(codes) if code.split("-")[0] == "en" or translated(code)]


def preferred_language(ui_locales: str | None) -> str | None:
    """The first language of ``ui_locales`` the pages can be shown in
    (``supported_languages``), a regional tag falling back to its language
    ("fr-CA" -> "fr"); None when there is none of them."""
    supported = supported_languages()
    for tag in (ui_locales or "").split():
        try:
            language = translation.get_supported_language_variant(tag.lower())
        except LookupError:
            continue
        if language in supported:
            return language
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
