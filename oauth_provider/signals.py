"""Signals for auditing. None of them carries a raw secret, code or token.

Each is sent synchronously, inside the transaction that did the work; a
receiver that talks to the outside world should use ``transaction.on_commit``.

``token_issued``
    sender: ``AccessToken`` or ``RefreshToken``; ``token`` (the row, which
    holds only the hash), ``grant_type``.
``token_revoked``
    sender: ``AccessToken`` or ``RefreshToken``; ``tokens`` (the rows
    revoked, with ``pk``, ``client_id``, ``user_id`` and ``family_id``),
    ``reason`` (a ``revocation.RevocationReason``, a string).
``refresh_token_reused`` / ``authorization_code_reused``
    sender: the model; ``credential`` (the replayed row). The tokens of its
    family have just been revoked (RFC 9700 §4.14.2, RFC 6749 §4.1.2).
``client_authentication_failed``
    sender: ``Client``; ``client_id`` (as claimed, possibly unknown or None),
    ``reason`` and ``remote_addr``.
``backchannel_logout_sent`` / ``backchannel_logout_failed``
    sender: ``Client``; ``client_id``, ``sid``, ``attempts``, and for a
    failure ``reason`` (such as ``"HTTP 500"`` or ``"timed out"``). Back-Channel
    Logout 1.0 §2.5: sent from the delivery thread, after the response and
    outside any transaction (``backchannel_logout``); never the logout token.
"""

from django.dispatch import Signal

token_issued = Signal()
token_revoked = Signal()
refresh_token_reused = Signal()
authorization_code_reused = Signal()
client_authentication_failed = Signal()
backchannel_logout_sent = Signal()
backchannel_logout_failed = Signal()
