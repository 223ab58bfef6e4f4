"""The listener thread: one per process, keeping ``State`` in step with the stream.

Fail closed. The process trusts its state (``Listener.trusted``) only while
it is subscribed, resynchronised, and hearing its own heartbeat:

1. subscribe (the engine returns once the server confirmed it);
2. resynchronise: load from the database the hashes of every revoked,
   unexpired access token into the deny list. Subscribing first means a
   revocation committed after the load is heard as an event, and one
   committed before it is in the load: none falls in between;
3. apply what arrived meanwhile, and trust;
4. every ``heartbeat`` seconds, send a ping to this subscription's own
   channel; any message (the ping included) counts as being heard.

On any error (a dropped connection, ``CLIENT KILL``, ``pg_terminate_backend``)
or after ``SILENT_HEARTBEATS * heartbeat`` seconds without hearing anything, the process
stops trusting (``trusted`` turns False by itself on silence, even if this
thread is stuck), empties its remembered rows, and starts again at 1. The
deny list and not-before times are kept: a revocation never ends early.
Meanwhile every token is looked up in the database (``bearer``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import connections, router

from .. import clock
from . import events
from .engines import Engine, SubscriptionLost
from .state import State

logger = logging.getLogger(__name__)

# Missed heartbeats before a silent subscription counts as lost.
SILENT_HEARTBEATS = 3
# Seconds between sweeps of expired deny list entries and not-before times.
PRUNE_SECONDS = 60
# Seconds between attempts to subscribe again: first, and at most.
RETRY_SECONDS = (0.05, 5.0)
# Revoked tokens read per round trip when resynchronising.
RESYNC_CHUNK = 5000
# Seconds the clocks of the site's machines may be apart (NTP keeps them far
# closer): a token whose iat is within this of the subscription may predate it.
CLOCK_SKEW_SECONDS = 1.0


class Listener:
    """Keeps ``state`` in step with ``engine``'s channel, in a daemon thread
    started by ``start``; ``heartbeat`` in seconds."""

    def __init__(self, engine: Engine, state: State, *, heartbeat: float) -> None:
        self.engine = engine
        self.state = state
        self.heartbeat = heartbeat
        self.ready = False
        self.heard_at = float("-inf")  # time.monotonic() of the last message
        # Unix seconds (clock.now()) when the current subscription was asked
        # for: an event sent before it was never heard here (see ``heard_since``).
        self.subscribed_at = float("inf")
        self.stopped = threading.Event()
        # Set each time the process is trusted after a (re)subscription; tests wait on it.
        self.resynchronised = threading.Event()
        self.thread = threading.Thread(
            target=self.run, name="oauth_provider revocation listener", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to end (within ``heartbeat`` seconds); do not wait."""
        self.stopped.set()
        self.distrust()

    def trusted(self) -> bool:
        return self.ready and time.monotonic() - self.heard_at < SILENT_HEARTBEATS * self.heartbeat

    def heard_since(self, moment: float) -> bool:
        """Whether every event sent since ``moment`` (Unix seconds, maybe
        from another machine's clock: ``CLOCK_SKEW_SECONDS`` apart at most)
        reached this process. The resynchronisation brings back revoked rows
        only: a user or client deleted before the subscription took its
        tokens' rows along, and only its not-before event, unheard, refused them."""
        return self.trusted() and moment >= self.subscribed_at + CLOCK_SKEW_SECONDS

    def distrust(self) -> None:
        self.ready = False
        self.subscribed_at = float("inf")
        self.resynchronised.clear()
        self.state.forget_rows()

    def run(self) -> None:
        wait = RETRY_SECONDS[0]
        while not self.stopped.is_set():
            try:
                self.listen()
            except Exception as error:  # whatever broke: fail closed, start again
                if not self.stopped.is_set():
                    logger.warning(
                        "Revocation stream lost (%s: %s); tokens are checked against the database "
                        "until it is back.",
                        type(error).__name__,
                        error,
                    )
            finally:
                was_trusted = self.ready
                self.distrust()
            wait = RETRY_SECONDS[0] if was_trusted else min(wait * 2, RETRY_SECONDS[1])
            self.stopped.wait(wait)

    def listen(self) -> None:
        subscription = self.engine.subscribe()
        # Once confirmed: an event sent before that may never arrive.
        subscribed_at = clock.now().timestamp()
        try:
            self.resynchronise()
            for message in subscription.messages(0):
                self.hear(message)
            self.heard_at = time.monotonic()
            self.subscribed_at = subscribed_at
            self.ready = True
            self.resynchronised.set()
            pruned_at = time.monotonic()
            while not self.stopped.is_set():
                subscription.ping()
                for message in subscription.messages(self.heartbeat):
                    self.hear(message)
                if not self.trusted():
                    raise SubscriptionLost(f"no heartbeat for {SILENT_HEARTBEATS * self.heartbeat} s")
                if time.monotonic() - pruned_at > PRUNE_SECONDS:
                    self.state.prune()
                    pruned_at = time.monotonic()
        finally:
            subscription.close()

    def hear(self, message: str) -> None:
        self.heard_at = time.monotonic()
        try:
            events.apply(self.state, message)
        except (ValueError, KeyError, TypeError):
            # Not ours (someone else publishing on the channel): nothing to apply.
            logger.warning("Ignored a malformed message on the revocation stream.")

    def resynchronise(self) -> None:
        """Add every revoked, unexpired access token to the deny list.

        Read from the primary (the alias tokens are written to): a replica
        may not show a revocation committed a moment ago."""
        from ..models import AccessToken

        alias = router.db_for_write(AccessToken)
        revoked = (
            AccessToken.objects.using(alias)
            .filter(
                revoked_at__isnull=False, expires_at__gt=clock.now() - timedelta(seconds=self.state.grace)
            )
            .values_list("token_hash", "expires_at")
        )
        try:
            self.state.load_denied(
                (token_hash, expires_at.timestamp())
                for token_hash, expires_at in revoked.iterator(chunk_size=RESYNC_CHUNK)
            )
        finally:
            # This thread's own connection: it would otherwise stay open, idle, for good.
            connections[alias].close()
