from .clients import Client
from .codes import AuthorizationCode
from .consents import Consent
from .devices import DeviceAuthorization
from .keys import SigningKey
from .registration import InitialAccessToken
from .sign_ins import SignIn
from .subjects import Subject
from .tokens import AccessToken, RefreshToken

__all__ = [
    "AccessToken",
    "AuthorizationCode",
    "Client",
    "Consent",
    "DeviceAuthorization",
    "InitialAccessToken",
    "RefreshToken",
    "SignIn",
    "SigningKey",
    "Subject",
]
