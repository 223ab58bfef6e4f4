"""factory-boy factories. Credential factories keep the raw value on the
instance as ``.value`` (it is never stored), the way a client would hold it."""

import secrets
import uuid
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model

from oauth_provider import clock
from oauth_provider.crypto import hash_user_code
from oauth_provider.issuance import jwt_value
from oauth_provider.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    DeviceAuthorization,
    RefreshToken,
    SignIn,
)
from oauth_provider.subjects import subject

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ClientFactory(factory.django.DjangoModelFactory):
    """A confidential client; ``.secret`` holds its raw secret."""

    class Meta:
        model = Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"App {n}")
    website = "https://client.example.com"
    client_type = Client.ClientType.CONFIDENTIAL
    redirect_uris = "https://client.example.com/callback"
    grant_types = factory.LazyFunction(lambda: ["authorization_code", "refresh_token"])

    @factory.post_generation
    def secret(obj, create, extracted, **kwargs):
        obj.secret = obj.set_secret() if obj.is_confidential else None
        if create:
            obj.save()


class PublicClientFactory(ClientFactory):
    client_type = Client.ClientType.PUBLIC
    redirect_uris = "http://127.0.0.1/callback\ncom.example.app:/callback"


class CredentialFactory(factory.django.DjangoModelFactory):
    """Creates through ``Model.issue`` so the row holds only the hash."""

    class Meta:
        abstract = True

    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory)
    scope = "read"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj, value = model_class.issue(**kwargs)
        obj.value = value
        return obj


class AuthorizationCodeFactory(CredentialFactory):
    class Meta:
        model = AuthorizationCode

    redirect_uri = "https://client.example.com/callback"
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(seconds=60))


class AccessTokenFactory(CredentialFactory):
    class Meta:
        model = AccessToken

    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(hours=1))


class JWTAccessTokenFactory(AccessTokenFactory):
    """An access token whose ``.value`` is an RFC 9068 JWT (its client's
    format is JWT), stored by the JWT's hash like the token endpoint does."""

    client = factory.SubFactory(ClientFactory, access_token_format="jwt")
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(minutes=5))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj, value = model_class.issue(value_of=jwt_value, **kwargs)
        obj.value = value
        return obj


class RefreshTokenFactory(CredentialFactory):
    class Meta:
        model = RefreshToken

    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(days=30))


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    user = factory.SubFactory(UserFactory)
    client = factory.SubFactory(ClientFactory)
    scope = "read"


class DeviceAuthorizationFactory(CredentialFactory):
    """A pending device authorization; ``.value`` is the device_code and
    ``.user_code`` the code a person would type (normalized form)."""

    class Meta:
        model = DeviceAuthorization

    user = None
    user_code = factory.Sequence(lambda n: "BCDF" + "".join("GHJKLMNPQR"[int(d)] for d in f"{n:04d}"))
    interval = 5
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(minutes=10))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        user_code = kwargs.pop("user_code")
        obj = super()._create(model_class, *args, user_code_hash=hash_user_code(user_code), **kwargs)
        obj.user_code = user_code
        return obj


class AwaitingApprovalClientFactory(ClientFactory):
    """A client a user registered themselves while SELF_SERVICE_APPROVAL_REQUIRED
    is on: owned, inactive, and waiting for an admin's approval."""

    owner = factory.SubFactory(UserFactory)
    is_active = False
    awaiting_approval = True


class SignInFactory(factory.django.DjangoModelFactory):
    """A user's sign-in to a client with ``openid`` (one authorization). Pass
    ``family_id`` to tie it to tokens made with that family, and ``sid`` to
    place it in a browser session (``login_sessions.SID_SESSION_KEY``)."""

    class Meta:
        model = SignIn

    family_id = factory.LazyFunction(uuid.uuid4)
    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory)
    # The sub the client was given at sign-in (made with the user's Subject).
    subject = factory.LazyAttribute(lambda sign_in: subject(sign_in.user, sign_in.client))
    sid = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    auth_time = factory.LazyFunction(lambda: clock.now().replace(microsecond=0))
    claims = None
