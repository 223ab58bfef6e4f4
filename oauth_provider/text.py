"""Text that client owners write and users read: a client's name and website.

A name is shown on the consent screen, where a user decides whom to trust, so
it must read as what it is. Characters that change how the text around them
is displayed, or that cannot be seen, are refused at registration (the
``Client`` field validators, so the admin, the self-service page and
``createclient`` alike): Unicode's "other" categories (Cc control, Cf format
(bidi embeddings, overrides and isolates, zero-width characters, soft
hyphen...), Cs, Co, Cn), the line and paragraph separators (Zl, Zp), and the
few letters and marks drawn as nothing (``INVISIBLE_CHARACTERS``). With
U+202E RIGHT-TO-LEFT OVERRIDE, "Photo Printer" followed by it turns the rest
of the consent heading backwards.

What was stored before these rules existed is still shown isolated: in HTML
inside ``<bdi>`` (the ``bdi`` template filter), and in text that cannot hold
markup (a page title, an attribute, a message) between U+2068 FIRST STRONG
ISOLATE and U+2069 POP DIRECTIONAL ISOLATE (``isolate``), which ends any
embedding or override the text opened (UAX #9, rule X6a).
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .redirect_uris import check_unambiguous_host, check_unambiguous_text

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Outside those categories yet drawn as nothing: Unicode's Default_Ignorable_Code_Point
# letters and marks (combining grapheme joiner, Hangul fillers, Khmer inherent
# vowels) and the braille blank, with which a name can hide text or be blank.
# (Variation selectors, also ignorable, are left to pick emoji presentation.)
INVISIBLE_CHARACTERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
WEBSITE_SCHEMES = ("https", "http")


def hidden_characters(value: str) -> list[str]:
    """The characters of ``value`` that are refused, as ``U+XXXX`` names, in order, without repeats."""
    found = (
        char
        for char in value
        if unicodedata.category(char) in REFUSED_CATEGORIES or char in INVISIBLE_CHARACTERS
    )
    return list(dict.fromkeys(f"U+{ord(char):04X}" for char in found))


def validate_display_text(value: str) -> None:
    """Raise ``ValidationError`` (code ``blank`` or ``hidden_characters``)
    unless ``value`` is visible text that cannot reorder what is around it."""
    if not value.strip():
        raise ValidationError(_("Enter some visible text."), code="blank")
    hidden = hidden_characters(value)
    if hidden:
        raise ValidationError(
            _(
                "Remove the invisible or control characters (%(characters)s): they can change how "
                "the text around them is shown."
            ),
            code="hidden_characters",
            params={"characters": ", ".join(hidden)},
        )


def validate_website(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is an http(s) URL that reads
    as where it leads: the rules of ``redirect_uris`` against misleading URIs
    (no userinfo, backslash, non-ASCII or uppercase host) apply, since users
    see the website on the consent screen."""
    if not value:
        return
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValidationError(_("Enter a valid URL."), code="invalid") from None
    if parts.scheme not in WEBSITE_SCHEMES or not parts.netloc:
        raise ValidationError(_("Enter an https:// or http:// address."), code="scheme")
    check_unambiguous_text(value, parts)
    check_unambiguous_host(parts)


def isolate(value: Any) -> str:
    """``value`` between FSI and PDI, for text that cannot hold ``<bdi>``."""
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}"
