"""The one source of "now" for models, grants and tests.

Tests move time by patching ``oauth_provider.clock.now``; callers must use
``clock.now()`` rather than importing the function.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
