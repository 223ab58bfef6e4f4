"""The test settings with ``AUTH_USER_MODEL = "email_user.EmailUser"`` (see __init__.py)."""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

USER_MODEL_SHAPE = "email"
INSTALLED_APPS = [*INSTALLED_APPS, "tests.user_models.email_user"]
AUTH_USER_MODEL = "email_user.EmailUser"
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Its own test database, so that it can run beside the main run's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_email"}
