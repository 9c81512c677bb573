"""The CSV reader's line scans (issue 18): found by searching the text, they agree with
splitting it into lines, which the reader no longer does (a second copy of a 200 MB file)."""

from __future__ import annotations

import random

import pytest

from analytics.importer import read_file
from analytics.importer.reading import _blank_lines, _quoted_lines


@pytest.mark.parametrize("seed", range(5))
def test_blank_and_quoted_lines_agree_with_splitting_the_text(seed):
    pieces = ["a", " ", "\n", "\r\n", '"', "\t", "\u3000", ";"]
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        lines = text.split("\n")
        assert _blank_lines(text) == [i for i, line in enumerate(lines, 1) if not line.strip()]
        assert list(_quoted_lines(text)) == [line for line in lines if '"' in line]


def test_line_numbers_skip_blank_lines_on_the_fast_path():
    data = b'id,name\n\n1,"Acme, Inc"\n   \n2,Bolt\n\n'
    raw = read_file(data)
    assert list(raw.rows["_line"]) == [3, 5]
    assert list(raw.rows[1]) == ["Acme, Inc", "Bolt"]
