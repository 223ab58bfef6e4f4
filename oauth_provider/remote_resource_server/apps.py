"""The app a resource-server-only project lists to have its settings checked::

    INSTALLED_APPS = [..., "rest_framework", "oauth_provider.remote_resource_server"]

Optional: the DRF classes work without it; it adds no models and no URLs,
only the system checks of ``checks.py``.
"""

from django.apps import AppConfig


class RemoteResourceServerConfig(AppConfig):
    name = "oauth_provider.remote_resource_server"
    # Not "oauth_provider": a project has at most one of the two, but the
    # labels must never collide.
    label = "oauth_provider_remote_resource_server"
    verbose_name = "OAuth resource server"

    def ready(self) -> None:
        from .checks import register_checks

        register_checks()
