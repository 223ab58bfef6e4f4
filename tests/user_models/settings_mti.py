"""The test settings with ``AUTH_USER_MODEL = "mti_user.Member"`` (see __init__.py)."""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

USER_MODEL_SHAPE = "mti"
INSTALLED_APPS = [*INSTALLED_APPS, "tests.user_models.mti_user"]
AUTH_USER_MODEL = "mti_user.Member"
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Its own test database, so that it can run beside the main run's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_mti"}
