from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "example_project.api"
    label = "example_api"
    default_auto_field = "django.db.models.BigAutoField"
