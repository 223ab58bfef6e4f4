from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('oauth_provider', '0012_consent_resources'),
    ]

    operations = [
        migrations.AddField(
            model_name='client',
            name='access_token_format',
            field=models.CharField(choices=[('opaque', 'Opaque (a random value, looked up on every use)'), ('jwt', 'JWT (RFC 9068: signed, validated without a lookup, short-lived)')], default='opaque', help_text='JWT: resource servers validate the access tokens without asking this server; they live at most JWT_ACCESS_TOKEN_EXPIRE_SECONDS.', max_length=10, verbose_name='access token format'),
        ),
    ]
