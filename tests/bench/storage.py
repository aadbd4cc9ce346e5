"""``make bench``: a 10 MB PDF uploaded and downloaded with each storage backend, local and S3.

Each backend runs in a fresh process (its own SQLite, the demo seeded): the peak RSS the upload adds
to the web process (Linux's high-water mark, reset just before), and the median time of ten
downloads of that file. SeaweedFS serves S3 on this machine, as in the tests. Printed: the added
peak per backend (aim < 30 MB) and the S3 download time as a ratio of the local one (aim ≤ 1.5×).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def big_pdf() -> bytes:
    """A real one-page PDF of ~10 MB: an image of random pixels (incompressible) and a line of text."""
    from PIL import Image

    from portal.core.pdf import new_pdf, paragraph, to_bytes

    side = 1780  # 1780 × 1780 × 3 bytes ≈ 9.5 MB of pixels that no compression shrinks
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    document = new_pdf(title="Liste des travailleurs étrangers")
    document.add_page()
    document.set_font("DejaVu", "", 10)
    paragraph(document, "Liste nominative des travailleurs étrangers — Menuiserie Martin, SIREN 812 345 676")
    document.image(noise, x=10, y=30, w=150)
    return to_bytes(document)


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def measure(settings: dict) -> dict:
    """In this process: seed, log in, upload the big file, download it ten times."""
    from sqlalchemy import select

    from portal import create_app
    from portal.core.extensions import db
    from portal.demo.seed import seed_demo
    from portal.models import DocumentVersion
    from tests.support.documents import pdf, upload
    from tests.support.http import AuthActions
    from tests.support.services import base_config

    instance = tempfile.mkdtemp(prefix="vigie-bench-storage-")
    app = create_app({**base_config(f"sqlite:///{instance}/bench.db", instance), **settings})
    with app.app_context():
        db.create_all()
        seed_demo(with_documents=False)
    client = app.test_client()
    AuthActions(client).login("fournisseur@vigie.test")
    data = big_pdf()
    upload(client, "LNTE", pdf("LNTE"))  # warm the upload path (imports, the sandbox, the store)
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    before = _rss("VmRSS")
    answer = upload(client, "LNTE", data, name="big.pdf")
    peak = _rss("VmHWM") - before
    assert answer.status_code == 303, answer.status_code
    with app.app_context():
        version = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id.desc())).first()
        assert version.size == len(data)
        version_id = version.id
    times = []
    for _ in range(10):
        started = time.perf_counter()
        response = client.get(f"/documents/versions/{version_id}/download", buffered=False)
        received = sum(len(chunk) for chunk in response.response)
        times.append(time.perf_counter() - started)
        assert received == len(data)
    return {"peak_mb": peak / 1e6, "download_s": statistics.median(times), "size_mb": len(data) / 1e6}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(json.loads(sys.argv[2]))))
        return
    from tests.support import object_store

    server = object_store.start(Path(tempfile.mkdtemp(prefix="vigie-bench-s3-")))
    try:
        server.bucket("vigie-bench")
        s3 = {"STORAGE_URL": "s3://vigie-bench/files", "S3_ENDPOINT_URL": server.endpoint}
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "vigie",
            "AWS_SECRET_ACCESS_KEY": "vigie",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        results = {}
        for name, settings in (("local", {}), ("s3", s3)):
            done = subprocess.run(
                [sys.executable, "-m", "tests.bench.storage", "--child", json.dumps(settings)],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if done.returncode:
                sys.exit(done.stdout + done.stderr)
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
            r = results[name]
            print(
                f"{name:5}: upload of {r['size_mb']:.1f} MB adds {r['peak_mb']:.1f} MB of peak RSS (aim < 30); "
                f"download median {r['download_s'] * 1000:.0f} ms"
            )
        ratio = results["s3"]["download_s"] / results["local"]["download_s"]
        print(f"download from S3 vs local directory: {ratio:.2f}× (aim ≤ 1.5×)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
