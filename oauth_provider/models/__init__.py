from .clients import Client
from .codes import AuthorizationCode
from .consents import Consent
from .devices import DeviceAuthorization
from .tokens import AccessToken, RefreshToken

__all__ = ["AccessToken", "AuthorizationCode", "Client", "Consent", "DeviceAuthorization", "RefreshToken"]
