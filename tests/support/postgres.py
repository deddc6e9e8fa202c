"""A throw-away PostgreSQL server for the tests: Debian's initdb + pg_ctl in a temp dir, loopback only.

PostgreSQL refuses to run as root, so under root (CI, `make test`) the server runs as the
`postgres` user that Debian's package creates. Each test gets a fresh database of its own.
Each xdist worker starts its own server (the `postgres_server` session fixture): its own data
directory, socket directory and port, so workers never share one. A benchmark may give a `directory` of its
own: the cluster there is made once, reused by later runs and never removed by `stop()`.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """Start with `start()`, stop with `stop()`; `url(name)` for a database made by `create_database()`."""

    def __init__(self, bindir: Path, *, durable: bool = False, directory: Path | None = None,
                 settings: dict[str, str] | None = None) -> None:
        """`durable`: fsync and synchronous commits on, as in production (benchmarks); off is faster for tests.
        `directory`: keep the cluster there (made if it has none yet) instead of a temporary one.
        `settings`: server settings (`-c name=value`) over the defaults, for this start only."""
        self.bindir = bindir
        self.durable = durable
        self.kept = directory is not None
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="cloud-pg-"))
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.settings = dict(settings or {})
        self.data = self.directory / "data"
        self.port = 0
        self._names = itertools.count(1)
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            pw = pwd.getpwnam(self._user)
            os.chown(self.directory, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr or proc.stdout}")
        return proc

    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def start(self) -> None:
        if not self.initialised:
            # Byte-order collation, but a UTF-8 character classification: pg_trgm takes only letters it knows for
            # word characters, and under LC_CTYPE C a Persian name has no trigrams (the name index is never used).
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C", "--lc-ctype=C.UTF-8", *(() if self.kept else ("--no-sync",)))
        for attempt in range(3):
            self.port = _free_port()
            options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c max_connections=200"
            options += (" -c max_wal_size=4GB -c shared_buffers=1GB -c maintenance_work_mem=512MB" if self.durable
                        else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
            try:
                self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"),
                          "-w", "-t", "60", "start")
                return
            except RuntimeError:
                # PostgreSQL cannot bind port 0: another process (another xdist worker) took the probed
                # port before the server bound it; try another.
                if attempt == 2:
                    raise RuntimeError((self.directory / "log").read_text(errors="replace")) from None

    def stop(self) -> None:
        """Stop the server; a temporary cluster is removed, a kept one is shut down cleanly (no recovery at its
        next start) and left where it is."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast" if self.kept else "immediate", "-w", "-t", "600",
                      "stop")
        finally:
            if not self.kept:
                shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"cloud_test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
