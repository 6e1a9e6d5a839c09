"""Catalog fixtures: every test runs against a fresh SQLite file and, when the binaries exist, a real PostgreSQL.

The PostgreSQL server is started once per test session from Debian's ``/usr/lib/postgresql/<version>/bin`` (or an
``initdb`` on PATH, or ``MER_PG_BIN``): ``initdb`` into a private temporary folder, ``pg_ctl start`` listening on a
free port of 127.0.0.1 only, with its unix socket in that folder, trust authentication for the local superuser. Each
test gets its own database, dropped afterwards. ``initdb`` refuses to run as root, so as root the server runs as
``MER_PG_USER`` if set, else the ``postgres`` user when it exists, else ``nobody``, owning the folder. Without the
binaries the PostgreSQL cases skip and say how to install them (``.ci/postgres.sh``).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import free_port, missing_component

from mer.catalog import dispose_engines, init_db


def _pg_bindir() -> Path | None:
    if env := os.environ.get("MER_PG_BIN"):
        return Path(env)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (ourselves) unless we are root, whom initdb and postgres refuse."""
    if os.geteuid() != 0:
        return None
    for name in filter(None, (os.environ.get("MER_PG_USER"), "postgres", "nobody")):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    missing_component("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as")


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """Run a server binary as the server's user; fail the test session with its output when it fails."""
        kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        res = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, timeout=120,
                             cwd=self.root, **kwargs)  # type: ignore[call-overload]
        if res.returncode != 0:
            log = (self.root / "server.log").read_text() if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"{args[0]} failed ({res.returncode}): {res.stdout}{res.stderr}{log[-3000:]}")
        return res

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        name = f"mer_test_{next(self._counter)}"
        self.admin(f"CREATE DATABASE {name}")
        return name


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _pg_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        missing_component("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): "
                          "run `bash .ci/postgres.sh`")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="mer-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PostgresServer(bindir, root, free_port(), user)
    data = root / "data"
    server.run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = (f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off "
               "-c max_connections=100 -c shared_buffers=32MB")
    server.run(bindir / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w", "-t", "60", "start")
    try:
        yield server
    finally:
        dispose_engines()
        try:
            server.run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, never migrated database: a SQLite file in ``tmp_path``, or a fresh one on the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        dispose_engines()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.new_database()
    yield server.url(name)
    dispose_engines()
    server.admin(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def db_url(empty_url: str) -> str:
    """A migrated, empty catalog on each back end."""
    init_db(empty_url)
    return empty_url
