"""The streamed read of a plain UTF-8 CSV (issue 18, bounded work): the bytes are checked
as UTF-8 a block at a time and read by Arrow in blocks, never decoded into one text. It must
read every file exactly as the text's path does (the path a file takes when its encoding is
given), and give way to that path for anything it does not take as written."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from analytics.importer import Options, read_file
from analytics.importer.reading import DETECT, _blank_lines, _quoted_lines, _read_utf8_streamed

CORPORA = [Path(__file__).parent / name for name in ("import_corpus", "hostile_corpus")]
FILES = sorted(p for folder in CORPORA for p in folder.iterdir() if p.suffix in (".csv", ".txt"))


def _read(data: bytes, options: Options = DETECT):
    try:
        raw = read_file(data, options)
    except Exception as problem:  # the same refusal, with the same message
        return type(problem).__name__, str(problem)
    return (
        raw.header,
        raw.rows.astype(str).to_dict("list"),
        raw.bad_lines,
        raw.detected.delimiter,
        raw.detected.encoding.removesuffix(" (with BOM)"),
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_file_reads_as_the_texts_path_reads_it(path):
    data = path.read_bytes()
    if _read_utf8_streamed(data, DETECT) is not None:
        # The text's path: the same file with its encoding given.
        assert _read(data) == _read(data, Options(encoding="utf-8"))


def test_the_streamed_path_is_taken_for_plain_utf8_and_not_otherwise():
    plain = 'id;name\n1;Müller\n2;"Acme; Inc"\n'.encode()
    assert _read_utf8_streamed(plain, Options()) is not None
    assert _read_utf8_streamed(b"\xef\xbb\xbf" + plain, Options()) is not None
    for other in (
        "id;name\n1;Müller\n".encode("cp1252"),  # not UTF-8
        "id;name\n1;x\n".encode("utf-16"),  # UTF-16 with its BOM
        b"id;name\r1;x\r2;y\r",  # bare CRs
        b'id;name\n1;"two\nlines"\n',  # a value spanning lines
        b"id;name\n1;x;extra\n",  # a row wider than the header
        b"id;name\n1;x\x00\n",  # a NUL
    ):
        assert _read_utf8_streamed(other, Options()) is None


@pytest.mark.parametrize("seed", range(3))
def test_random_files_read_the_same_both_ways(seed):
    """Files of random cells, quotes, blank lines, spaces, BOMs and multi-byte letters: the
    streamed read and the text's read agree on every one (header, values, line numbers)."""
    rng = random.Random(seed)
    cells = ["a", "ü", "Ωmega", "", " ", '"q, d"', '"x ""y"""', "1,5", "007", "東京"]
    for _ in range(200):
        width = rng.randint(2, 4)
        lines = [",".join(f"h{i}" for i in range(width))]
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            if kind < 0.1:
                lines.append(rng.choice(["", "  ", "\t"]))
            else:
                lines.append(",".join(rng.choice(cells) for _ in range(width)))
        text = rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n"])
        data = (b"\xef\xbb\xbf" if rng.random() < 0.2 else b"") + text.encode()
        assert _read(data) == _read(data, Options(encoding="utf-8")), text


@pytest.mark.parametrize("seed", range(3))
def test_line_scans_over_bytes_agree_with_the_texts(seed):
    pieces = ["a", " ", "\n", "\r\n", '"', "\t", "ü", ";"]
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        data = text.encode()
        assert _blank_lines(data) == _blank_lines(text)
        assert [line.decode() for line in _quoted_lines(data)] == list(_quoted_lines(text))
        bom = b"\xef\xbb\xbf" + data
        assert _blank_lines(bom, 3) == _blank_lines(text)
        assert [line.decode() for line in _quoted_lines(bom, 3)] == list(_quoted_lines(text))


def test_the_read_holds_no_copy_of_the_files_text():
    """Python's own allocations while a 47 MB orders file is read (tracemalloc; Arrow's
    blocks are its own memory, which the frame keeps): before, the decoded text alone was
    twice the file's size (a "ü" makes Python hold it at two bytes a character); now the
    most held is the delimiter sniffing's (its SNIFF_CHARS characters read by the csv
    module, ~36 MB whatever the file's size), on the old path held beside the text."""
    import tracemalloc

    line = "SO{:09d},1,2024-01-04,C000001,Müller GmbH,DE,EUR,P001,3,120.50,0.1,direct\n"
    header = "order_id,line_no,order_date,customer_id,customer_name,country,currency,"
    header += "product_id,quantity,unit_price,discount_pct,channel\n"
    data = (header + "".join(line.format(i) for i in range(600_000))).encode()
    assert len(data) > 46_000_000
    tracemalloc.start()
    try:
        raw = read_file(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(raw.rows) == 600_000 and raw.rows[4].iloc[-1] == "Müller GmbH"
    assert list(raw.rows["_line"].iloc[[0, -1]]) == [2, 600_001]
    assert peak < len(data), f"{peak / 1e6:.1f} MB traced for a {len(data) / 1e6:.0f} MB file"
