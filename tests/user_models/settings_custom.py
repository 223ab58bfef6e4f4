"""The test settings with ``AUTH_USER_MODEL = "custom_user.Account"`` (see __init__.py)."""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

USER_MODEL_SHAPE = "custom"
INSTALLED_APPS = [*INSTALLED_APPS, "tests.user_models.custom_user"]
AUTH_USER_MODEL = "custom_user.Account"
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Its own test database, so that it can run beside the main run's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_custom"}
