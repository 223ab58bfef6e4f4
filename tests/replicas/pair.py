"""A throwaway PostgreSQL primary and its hot-standby streaming replica.

Both live under one temporary directory: ``initdb`` makes the primary
(``wal_level=replica``, trust authentication for local and loopback
connections, replication included), ``pg_basebackup -R`` copies it into the
replica's directory with the settings that make it follow the primary, and the
replica starts with ``hot_standby=on``. ``stop()`` stops both and deletes the
directory.

The server binaries come from ``PG_BIN`` or else the newest
``/usr/lib/postgresql/*/bin`` (Debian's layout). PostgreSQL refuses to run as
root, so as root every binary runs as the ``postgres`` user (``runuser``),
which owns the directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60


class Unavailable(Exception):
    """The pair cannot be started here (no binaries, no ``postgres`` user); the message says why."""


def binaries() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``pg_basebackup``; ``Unavailable`` if none."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    for candidate in candidates:
        if all((Path(candidate) / name).is_file() for name in ("initdb", "pg_ctl", "pg_basebackup")):
            return Path(candidate)
    raise Unavailable("no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup): set PG_BIN")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Pair:
    """A running primary and replica: ``primary_port`` and ``replica_port`` on 127.0.0.1."""

    root: Path
    bin: Path
    primary_port: int
    replica_port: int
    as_server_user: tuple[str, ...]

    @property
    def primary_dir(self) -> Path:
        return self.root / "primary"

    @property
    def replica_dir(self) -> Path:
        return self.root / "replica"

    def run(self, program: str, *args: str) -> None:
        """Run a server binary as the server's user; ``Unavailable`` with its output if it fails."""
        command = [*self.as_server_user, str(self.bin / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode:
            raise Unavailable(f"{program} failed ({result.returncode}): {result.stdout}{result.stderr}")

    def start_server(self, directory: Path, port: int, *settings: str) -> None:
        options = " ".join(
            (
                f"-p {port}",
                f"-c listen_addresses={HOST}",
                f"-c unix_socket_directories={self.root}",
                *settings,
            )
        )
        log = str(self.root / f"{directory.name}.log")
        # -w: wait until the server accepts connections (a hot standby does once consistent).
        self.run(
            "pg_ctl",
            "-D",
            str(directory),
            "-o",
            options,
            "-l",
            log,
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
        )

    def stop(self) -> None:
        """Stop both servers (immediately: nothing in them is kept) and delete the directory."""
        for directory in (self.replica_dir, self.primary_dir):
            if (directory / "postmaster.pid").exists():
                # If it is already gone, the directory goes anyway.
                with contextlib.suppress(Unavailable):
                    self.run("pg_ctl", "-D", str(directory), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Pair:
    """Start a primary and its streaming replica; ``Unavailable`` (everything
    cleaned up) if they cannot be started."""
    bin_dir = binaries()
    as_server_user: tuple[str, ...] = ()
    root = Path(tempfile.mkdtemp(prefix="oauth-provider-replica-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SERVER_USER)
        except KeyError:
            shutil.rmtree(root)
            raise Unavailable(
                f"running as root, but there is no {SERVER_USER!r} user to run PostgreSQL as"
            ) from None
        os.chown(root, account.pw_uid, account.pw_gid)
        as_server_user = ("runuser", "-u", SERVER_USER, "--")
    pair = Pair(root, bin_dir, free_port(), free_port(), as_server_user)
    try:
        pair.run("initdb", "-D", str(pair.primary_dir), "-U", SUPERUSER, "--auth=trust", "--no-sync")
        # Throwaway data: no fsync. wal_level=replica and senders for pg_basebackup and the standby.
        pair.start_server(
            pair.primary_dir,
            pair.primary_port,
            "-c wal_level=replica",
            "-c max_wal_senders=5",
            "-c fsync=off",
        )
        pair.run(
            "pg_basebackup",
            *("-D", str(pair.replica_dir), "-h", HOST, "-p", str(pair.primary_port), "-U", SUPERUSER),
            *("-R", "-X", "stream", "--checkpoint=fast", "--no-sync"),
        )
        pair.start_server(pair.replica_dir, pair.replica_port, "-c hot_standby=on", "-c fsync=off")
    except BaseException:
        pair.stop()
        raise
    return pair
