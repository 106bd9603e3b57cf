"""A throwaway Redis server for the tests: the Celery broker and result backend of the scale-out tests.

Debian's `redis-server` (CI installs it, see `.ci/run`) runs in the foreground on 127.0.0.1 and a
random port, its working directory a temporary one, with persistence off (no RDB snapshots, no
append-only file): a test's queue is worthless after the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

REDIS_SERVER = Path(os.environ.get("PINTEREST_TEST_REDIS_SERVER", "/usr/bin/redis-server"))
_START_TIMEOUT_S = 10.0


def redis_available() -> str | None:
    """None when a Redis server can be started here, else the reason it cannot."""
    if not REDIS_SERVER.exists():
        return f"redis-server not found at {REDIS_SERVER} (apt-get install -y redis-server)"
    return None


@dataclass
class RedisServer:
    """One running server; `url(db)` is the `redis://` URL Celery takes as broker or backend."""

    root: Path
    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self) -> RedisServer:
        self.root.mkdir(parents=True, exist_ok=True)
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--bind", self.host, "--port", str(self.port), "--dir", str(self.root),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
            ],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}: see {self.root / 'redis.log'}")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        """Whether the server answers PING (a raw RESP exchange: no client library needed)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(root: Path | None = None) -> RedisServer:
    """A started server in `root` (default: a new temporary directory); retries once on a port race."""
    for attempt in range(3):
        server = RedisServer(root=root or Path(tempfile.mkdtemp(prefix="pinterest-redis-")), port=free_port())
        try:
            return server.start()
        except RuntimeError:
            if root is None:
                shutil.rmtree(server.root, ignore_errors=True)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
