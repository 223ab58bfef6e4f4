"""The audience of every credential (RFC 8707 resource indicators)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("oauth_provider", "0007_openid_connect"),
    ]

    operations = [
        migrations.AddField(
            model_name=model_name,
            name="resources",
            field=models.TextField(blank=True, verbose_name="resources"),
        )
        for model_name in ("accesstoken", "refreshtoken", "authorizationcode", "deviceauthorization")
    ]
