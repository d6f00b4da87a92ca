"""Running the real command line in processes of their own, and reading what they wrote."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

HERE = Path(__file__).resolve().parent
PASSPHRASE = "correct horse battery staple 42"


def env_for(data: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TIPLAB_DATABASE_URL", "TIPLAB_KEY_DIR", "TIPLAB_BACKUP_PASSPHRASE",
                        "TIPLAB_FAULT_PAUSE_IN_TRANSACTION")}
    env.update({"DJANGO_SETTINGS_MODULE": "tiplab_web.settings.dev",
                "TIPLAB_DATA_DIR": str(data), **extra})
    if database_url:
        env["TIPLAB_DATABASE_URL"] = database_url
    return env


def run(args: list[str], env: dict[str, str], *, ok: bool = True,
        timeout: int = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if ok:
        assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]
    return done


def tiplab(*args: str, env: dict[str, str], ok: bool = True) -> dict[str, Any]:
    """``tiplab ARGS --json``: its JSON object, plus ``_rc`` and ``_stderr``."""
    done = run(["-m", "tiplab", *args, "--json"], env, ok=ok)
    out: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}
    out["_rc"], out["_stderr"] = done.returncode, done.stderr
    return out


def seed(data: Path, database_url: str | None = None, people: int = 60) -> dict[str, Any]:
    done = run([str(HERE / "seed_site.py"), "--people", str(people)],
               env_for(data, database_url))
    info: dict[str, Any] = json.loads(done.stdout)
    return info


def members(archive: Path) -> dict[str, bytes]:
    """Every member of an archive, decompressed."""
    out = {}
    with archive.open("rb") as raw, pa.CompressedInputStream(raw, "zstd") as zst, \
            tarfile.open(fileobj=zst, mode="r|") as tar:
        for info in tar:
            fh = tar.extractfile(info)
            assert fh is not None
            out[info.name] = fh.read()
    return out


def rewrite(archive: Path, out: Path,
            change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Path:
    """A copy of ``archive`` whose members (in the same order) went through ``change``."""
    items = change(members(archive))
    with out.open("wb") as raw, pa.CompressedOutputStream(raw, "zstd") as zst, \
            tarfile.open(fileobj=zst, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, data in items.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def resign(items: dict[str, bytes], manifest: dict[str, Any]) -> dict[str, bytes]:
    """Replace the manifest and sign it as `tiplab backup` would, knowing the passphrase."""
    from tiplab.backup.keyseal import manifest_mac, open_files

    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    _, mac_key, _ = open_files(items["keys.enc"], PASSPHRASE)
    return {**items, "manifest.json": body, "manifest.mac": manifest_mac(mac_key, body).encode()}


def leftovers(parent: Path) -> list[str]:
    """Work directories or temporary files a failed backup or restore would leave behind."""
    return sorted(p.name for p in parent.iterdir() if ".restore-" in p.name
                  or p.name.startswith(".tiplab-backup-") or p.name.endswith(".tmp"))
