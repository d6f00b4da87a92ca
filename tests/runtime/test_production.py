"""The production entry point, as a deployment runs it: ``tiplab-web prepare`` then
``tiplab-web serve`` with ``settings.production`` on PostgreSQL (gunicorn, job workers,
static files by whitenoise, JSON logs), and a smoke flow through an import job."""

from __future__ import annotations

import json
import secrets
import signal
import sys
from pathlib import Path

import pytest
from tests.unit.ingest.factories import POLICE_PROFILE, row, write_csv

from .site import Site, free_port, postgres_database, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("runtime")]


def _multipart(fields: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = []
    for name, (filename, content) in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\n\r\n'.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def test_production_server_and_worker_run_an_import_job_on_postgres(tmp_path: Path):
    import urllib.error
    import urllib.request

    with postgres_database("tiplab_prod") as url:
        site = Site(tmp_path, settings="tiplab_web.settings.production", database_url=url,
                    TIPLAB_SECRET_KEY=secrets.token_urlsafe(64),
                    TIPLAB_ALLOWED_HOSTS="127.0.0.1,localhost")
        prepared = site.run(sys.executable, "-m", "tiplab_web.serve", "prepare")
        assert prepared.returncode == 0, prepared.stdout + prepared.stderr
        assert (site.data / "staticfiles" / "staticfiles.json").exists()  # hashed, compressed
        site.op("make_user", username="reporter", role="agency_reporter",
                organisation="National Police")
        token = site.op("make_token", username="reporter")["token"]
        port = free_port()
        server = site.start(sys.executable, "-m", "tiplab_web.serve", "serve", "--bind",
                            f"127.0.0.1:{port}", "--web-workers", "2", "--workers", "1",
                            log="serve.log")
        base = f"http://127.0.0.1:{port}"
        # behind the TLS proxy: it says the request came over HTTPS
        https = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}

        def call(path: str, data: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
            req = urllib.request.Request(base + path, data=data,
                                         headers={**https, **(headers or {})})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()
            except OSError:
                return 0, b""

        try:
            health = wait_for(lambda: (c := call("/healthz"))[0] == 200 and c, 90,
                              "the production server to be healthy")
            checks = json.loads(health[1])["checks"]
            assert checks["database"]["detail"] == "postgresql"
            assert "1 live worker" in checks["queue"]["detail"]
            # plain HTTP is sent to HTTPS; static files are served, hashed
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/accounts/login/")
            plain = conn.getresponse()
            assert plain.status == 301
            assert (plain.getheader("Location") or "").startswith("https://")
            conn.close()
            status, page = call("/accounts/login/")
            assert status == 200
            css = page.decode().split('href="/static/tiplab/tiplab.')[1].split('"')[0]
            assert call(f"/static/tiplab/tiplab.{css}")[0] == 200
            # the smoke flow: a reporter submits a file, the worker imports it
            csv = write_csv(tmp_path / "police.csv",
                            [row(Case_No=f"P-{i}") for i in range(120)])
            body, boundary = _multipart({"file": ("police.csv", csv.read_bytes()),
                                         "profile_file": ("p.yaml", POLICE_PROFILE.encode())})
            auth = {"Authorization": f"Bearer {token}"}
            status, answer = call("/api/cases/batches/jobs", body, {
                **auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
            assert status == 202, answer
            job = json.loads(answer)

            def finished() -> dict | None:
                s, b = call(f"/api/jobs/{job['id']}", headers=auth)
                data = json.loads(b) if s == 200 else {}
                return data if data.get("status") in ("succeeded", "failed") else None

            done = wait_for(finished, 120, "the import job")
            assert done["status"] == "succeeded", done
            status, batch = call(f"/api/cases/batches/{done['result']['batch_id']}",
                                 headers=auth)
            assert status == 200
            assert json.loads(batch)["accepted"] == 120
            assert json.loads(batch)["source_agency"] == "National Police"
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=120)
            site.stop()
        assert code == 0, site.log("serve.log")
        log = site.log("serve.log", tail=10**7)
        lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
        assert any(x["logger"] == "gunicorn.access" and x.get("path") == "/healthz"
                   for x in lines)  # structured access log
        assert any(x["logger"] == "tiplab.web.jobs.worker" for x in lines)
        assert "Traceback" not in log
