"""Hostile input (issue 18): the hostile corpus through the importer, the store's read
connection, fx-update against odd rate answers and a slow server, and undoing an import.

The store is the hand-made fixture (conftest.py); each corpus file's expected report was
written by hand in hostile_corpus/make_corpus.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics import importer

CORPUS = Path(__file__).parent / "hostile_corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".txt", ".parquet"))


def test_the_corpus_has_at_least_forty_kinds():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_hostile_file_gives_its_expected_report(fixture_con, name):
    expected = json.loads((CORPUS / f"{name.rsplit('.', 1)[0]}.expected.json").read_text())
    data = (CORPUS / name).read_bytes()
    report = importer.import_file(fixture_con, expected["kind"], data, name)
    got = report.to_dict()
    assert got["rows_read"] == got["rows_loaded"] + got["rows_rejected"], "nothing is dropped"
    for key in (
        "status",
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "ignored_columns",
        "created",
    ):
        if key in expected:
            assert got[key] == expected[key], (key, got["message"], got["rejected"][:5])
    for key, value in expected.get("detected", {}).items():
        assert got["detected"][key] == value, key
    if "encoding_note_contains" in expected:
        assert expected["encoding_note_contains"] in got["detected"]["encoding_note"]
    if "message_contains" in expected:
        assert expected["message_contains"] in got["message"], got["message"]
    if "rejected" in expected:
        shown = [(r["line"], r["column"], r["reason"]) for r in got["rejected"]]
        assert len(shown) == len(expected["rejected"]), shown
        for (line, column, reason), want in zip(shown, expected["rejected"], strict=True):
            assert (line, column) == (want["line"], want["column"]), shown
            assert want["reason_contains"] in reason, (reason, want)
    if "query" in expected:
        sql, rows = expected["query"]
        stored = [list(r) for r in fixture_con.execute(sql).fetchall()]
        assert json.loads(json.dumps(stored, default=str)) == rows
