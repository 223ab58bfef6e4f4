from .clients import Client
from .codes import AuthorizationCode
from .consents import Consent
from .tokens import AccessToken, RefreshToken

__all__ = ["AccessToken", "AuthorizationCode", "Client", "Consent", "RefreshToken"]
