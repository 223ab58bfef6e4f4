import django.db.models
from django.db import migrations

import oauth_provider.cors


class Migration(migrations.Migration):
    dependencies = [("oauth_provider", "0008_resources")]

    operations = [
        migrations.AddField(
            model_name="client",
            name="allowed_origins",
            field=django.db.models.TextField(
                blank=True,
                help_text=(
                    "One per line, such as https://app.example.com: web pages there may call the token and "
                    "revocation endpoints. The origins of the redirect URIs are allowed without being listed."
                ),
                validators=[oauth_provider.cors.validate_allowed_origins],
                verbose_name="allowed origins",
            ),
        ),
    ]
