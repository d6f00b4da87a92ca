"""The embedded model loads and embeds with the network cut off: nothing is fetched at run
time. The check runs in a fresh interpreter whose sockets raise, with the Hugging Face
offline switches unset (so nothing relies on them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tiplab.qualitative import embed

pytestmark = pytest.mark.skipif(not embed.available(), reason="the 'ai' extra is not installed")

SCRIPT = textwrap.dedent("""
    import json, socket

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args)[:80])
        raise OSError("network access is blocked in this test")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse(*args)

    socket.socket = NoSocket
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    from tiplab.qualitative.embed import Embedder

    e = Embedder(threads=1)
    v = e.embed(["They took my passport when I arrived.",
                 "My employer kept my identity documents.",
                 "The football match ended in a draw."])
    print(json.dumps({"shape": list(v.shape), "paraphrase": float(v[0] @ v[1]),
                      "unrelated": float(v[0] @ v[2]), "attempts": attempts,
                      "model": e.info.id}))
""")


def test_the_model_loads_and_embeds_with_sockets_blocked():
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["shape"] == [3, embed.DIM]
    assert out["model"] == embed.MODEL_ID
    assert out["attempts"] == []
    assert out["paraphrase"] > out["unrelated"] + 0.2
