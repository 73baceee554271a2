"""An S3-compatible server for the tests: moto's server mode, started as a subprocess on a free port.

The product talks to it over the S3 protocol only (``hub/s3.py``), exactly as to MinIO or AWS S3.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY, SECRET_KEY = "testing-access-key", "testing-secret-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    """A running moto server: its URL and process."""

    url: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        name = f"vc-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_s3_server(log_dir: Path) -> S3Server:
    """Start ``python -m moto.server`` and wait until it answers."""
    port = _free_port()
    log = (log_dir / f"moto-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return S3Server(url=url, process=process)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("moto server did not start within 60 s")


def s3_env(server: S3Server, bucket: str) -> dict[str, str]:
    """The environment of a valuechain process using ``bucket`` on ``server``."""
    return {
        "VALUECHAIN_BLOB_STORE": "s3",
        "VALUECHAIN_S3_ENDPOINT_URL": server.url,
        "VALUECHAIN_S3_BUCKET": bucket,
        "VALUECHAIN_S3_PATH_STYLE": "true",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
