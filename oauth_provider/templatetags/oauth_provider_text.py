"""Filters that show text a client owner wrote without letting it reorder the page.

``{{ client.name|bdi }}`` in HTML; ``{{ client.name|isolate }}`` where markup
cannot go (``<title>``, attributes). See ``oauth_provider.text``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .. import text

register = template.Library()


@register.filter
def bdi(value: Any) -> SafeString:
    """``value``, escaped, inside ``<bdi>``: its direction cannot leak into the text around it."""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def isolate(value: Any) -> str:
    """``value`` between the isolate characters FSI and PDI (escaped as usual)."""
    return text.isolate(value)
