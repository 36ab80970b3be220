"""Real processes on loopback for fault tests and load benchmarks: the API (uvicorn), a Celery worker and a
throwaway redis-server. Each is a subprocess in its own session, so killing one kills exactly its tree.

Settings travel to the subprocesses as ENGRAM_* environment variables (`workers.launch.child_env`), the same way an
operator configures them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO

import httpx

from memory_service.settings import Settings
from workers.launch import ROOT, child_env, worker_argv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A subprocess in its own process group, logging to a file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path):
        self.log_path = Path(log_path)
        self.log: IO = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown handlers, no flushes — a crash."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self.log.closed:
            self.log.close()

    def wait_http(self, url: str, what: str, timeout: float, every: float) -> None:
        """Until `url` answers 2xx; a process that dies or a timeout stops it and raises with its log."""
        deadline = time.time() + timeout
        while True:
            try:
                httpx.get(url, timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if not self.alive() or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"{what} ({url}) did not start:\n{self.tail()}") from None
                time.sleep(every)

    def tail(self, n: int = 4000) -> str:
        return self.log_path.read_bytes()[-n:].decode(errors="replace")


class RedisServer(Proc):
    """redis-server on a loopback port, data in `folder`, every write fsynced to the append-only file before
    it is acknowledged (appendfsync always): what survives a SIGKILL is exactly what was acknowledged."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        super().__init__(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            dict(os.environ), self.folder / "redis.log")
        self.wait_ready()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def wait_ready(self, timeout: float = 20) -> None:
        import redis

        deadline = time.time() + timeout
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if not self.alive() or time.time() > deadline:
                    raise RuntimeError(f"redis-server on :{self.port} did not start:\n{self.tail()}") from None
                time.sleep(0.1)


class ApiServer(Proc):
    """`uvicorn engram.app:create_app --factory` configured by `settings` through the environment."""

    def __init__(self, settings: Settings, log_path: Path, port: int | None = None, timeout: float = 120):
        self.port = port or free_port()
        super().__init__(
            [sys.executable, "-m", "uvicorn", "engram.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            child_env(settings), log_path)
        self.wait_ready(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float) -> None:
        """Until /healthz answers at all (200, or 503 when a backing service is down: the process is up)."""
        deadline = time.time() + timeout
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=2)
                return
            except httpx.HTTPError:
                if not self.alive() or time.time() > deadline:
                    raise RuntimeError(f"API on :{self.port} did not start:\n{self.tail()}") from None
                time.sleep(0.2)


class Worker(Proc):
    """A Celery worker (prefork, one child: the training process) on the consolidation queues."""

    def __init__(self, settings: Settings, log_path: Path, **env: str):
        self.settings = settings
        self.name = f"engram-test-{uuid.uuid4().hex[:6]}@localhost"
        super().__init__(worker_argv(settings, self.name, events=True), child_env(settings, **env), log_path)


class ModelServer(Proc):
    """`engram serve-model`: the configured base model behind the OpenAI chat-completions API."""

    def __init__(self, settings: Settings, log_path: Path, port: int | None = None, timeout: float = 240):
        self.port = port or free_port()
        super().__init__([sys.executable, "-m", "engram.cli", "serve-model", "--port", str(self.port)],
                         child_env(settings), log_path)
        self.wait_http(f"{self.url}/models", "model server", timeout, 0.5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


class S3Server(Proc):
    """An S3-compatible HTTP server on a loopback port (moto's server mode, from the test extra): the real
    boto3 client talks to it over HTTP, conditional writes included."""

    def __init__(self, log_path: Path, port: int | None = None, timeout: float = 60):
        self.port = port or free_port()
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        super().__init__([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)], env,
                         log_path)
        self.wait_http(f"{self.url}/moto-api/", "S3 server", timeout, 0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bucket(self, name: str) -> None:
        import boto3

        boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test",
                     aws_secret_access_key="test").create_bucket(Bucket=name)
