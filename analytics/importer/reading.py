"""Bytes to a table of strings: CSV (encoding and delimiter sniffed), XLSX, Parquet, and
the ECB's wide daily-rate layout.

Lines are numbered as in the file, header = line 1 (CSV) or as the sheet's row (XLSX);
Parquet rows count from 1.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import re
import traceback
import zipfile
from collections.abc import Iterator

import numpy as np
import pandas as pd

from analytics.importer.columns import normalise
from analytics.importer.parsing import DATE_FORMATS
from analytics.importer.report import FileRejected

ENCODINGS = ("utf-8", "utf-16", "cp1252", "latin-1")
DELIMITERS = (",", ";", "\t", "|")


@dataclasses.dataclass(frozen=True)
class Options:
    """What the user says about the file; None = detect."""

    encoding: str | None = None
    delimiter: str | None = None
    decimal_comma: bool | None = None
    date_format: str | None = None  # a key of DATE_FORMATS
    sheet: str | None = None
    cost_currency: str | None = None  # the currency of a unit cost column that names none
    country: str | None = None  # the country of order lines whose file and customer give none


DETECT = Options()  # nothing said about the file: detect everything


@dataclasses.dataclass
class Detected:
    format: str = "csv"
    encoding: str | None = None
    delimiter: str | None = None
    decimal_comma: bool = False
    date_format: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    encoding_note: str | None = None  # why a file that is not UTF-8 was read as it was

    def describe(self) -> dict:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": {"\t": "tab"}.get(self.delimiter, self.delimiter),
            "decimal_mark": "," if self.decimal_comma else ".",
            "date_format": DATE_FORMATS.get(self.date_format, self.date_format),
            "sheet": self.sheet,
            **({"encoding_note": self.encoding_note} if self.encoding_note else {}),
        }


@dataclasses.dataclass
class RawTable:
    header: list[str]
    rows: pd.DataFrame  # every value a string, column "_line" = line in the file
    detected: Detected
    # Lines the reader could not take as written ({line: reason}); validation rejects them.
    bad_lines: dict[int, str] = dataclasses.field(default_factory=dict)


def read_file(data: bytes, options: Options = DETECT, lazy: bool = False) -> RawTable:
    """Read CSV, XLSX or Parquet into strings, detecting what the options leave open.

    With `lazy`, a plain UTF-8 CSV's rows are a LazyRows (read from the file's bytes a
    range of lines at a time, when asked for) rather than a frame of the whole file."""
    if not data or data.isspace():  # data.strip() would copy the whole upload
        raise FileRejected("The file is empty.")
    if data[:4] == b"PAR1":
        return _read_parquet(data)
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, options)
    return _read_csv(data, options, lazy)


def _read_csv(data: bytes, options: Options, lazy: bool = False) -> RawTable:
    if options.encoding is None:
        streamed = _read_utf8_streamed(data, options, lazy)
        if streamed is not None:
            return streamed
    detected = Detected(format="csv")
    text, bad_lines = decode_text(data, options.encoding, detected)
    nul = text.find("\x00")
    if nul >= 0:
        line = _line_of(text, nul)
        if nul < 4096 and not detected.encoding.startswith("utf-16"):
            raise FileRejected(
                "This is not a text (CSV) file: it holds binary data. Export the data as CSV or "
                "XLSX and try again."
            )
        raise FileRejected(
            f"Line {line} holds a NUL byte (0x00), which no CSV value may contain: the file is "
            "damaged or not plain text. Export it again as CSV."
        )
    # Searched, not split or replaced: a copy of a 200 MB file's text is 200-800 MB more.
    plain_newlines = _BARE_CR.search(text) is None
    detected.delimiter = options.delimiter or _sniff_delimiter(_first_records(text))
    if plain_newlines:
        fast = _read_csv_fast(text, detected.delimiter, text.encode("utf-8"))
        if fast is not None:
            return RawTable(fast[0], fast[1], detected, bad_lines)
    # Bare CRs (old Mac files, or mixed line endings) and quoted fields spanning lines: the
    # csv module over newline="" splits lines at \n, \r and \r\n and keeps a CR inside
    # quotes as part of the value.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detected.delimiter, strict=True)
    records, numbers = [], []
    header = None
    start = 1
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as problem:
            raise _malformed(problem, start, reader.line_num) from problem
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line; rows of empty fields are kept and reported
        if header is None:
            header = [cell.strip() for cell in record]
            continue
        if reader.line_num > start and len(record) != len(header):
            # A quote that opens a value and closes lines later, leaving a record of the
            # wrong width: an unterminated quote, not a multi-line value.
            raise FileRejected(
                f'Line {start} opens a quoted value (") that is only closed on line '
                f"{reader.line_num}, so lines {start}–{reader.line_num} would be read as one "
                f"row of {len(record)} fields. Close the quote on line {start} and try again."
            )
        records.append(record)
        numbers.append(start)  # a value spanning lines: the line where its record starts
    if header is None:
        raise FileRejected("The file is empty.")
    return RawTable(header, _frame(header, records, numbers), detected, bad_lines)


def _read_utf8_streamed(data: bytes, options: Options, lazy: bool = False) -> RawTable | None:
    """A plain UTF-8 file (the common case) read without ever holding its text: the bytes
    are checked as UTF-8 a block at a time, the line scans search the bytes themselves (a
    quote, a delimiter, a line break and a space are the same byte in UTF-8 as in the text)
    and Arrow reads them in blocks. None when the file needs the text's path (another
    encoding, bytes that are not UTF-8, a NUL, bare CRs, rows Arrow cannot take): that path
    detects and reports it, as for any file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return None
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    view = memoryview(data)  # slices of it are not copies
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for at in range(start, len(data), _DECODE_BLOCK):
            decoder.decode(view[at : at + _DECODE_BLOCK])  # checked, not kept
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if _BARE_CR_BYTES.search(data, start) is not None:
        return None
    detected = Detected(format="csv", encoding="utf-8" + (" (with BOM)" if start else ""))
    # The first SNIFF_CHARS characters, as the text's path sniffs them: each byte decoded
    # gives at most one character.
    sniffing = codecs.getincrementaldecoder("utf-8")()
    head, at = "", start
    while len(head) < SNIFF_CHARS and at < len(data):
        step = SNIFF_CHARS - len(head)
        head += sniffing.decode(view[at : at + step])
        at += step
    detected.delimiter = options.delimiter or _sniff_delimiter(_first_records(head))
    one_column = detected.delimiter not in head.split("\n", 1)[0]
    del head
    if one_column:
        return None  # the text's path reads a one-column file's lines of spaces as blank
    fast = _read_csv_fast(data, detected.delimiter, pa_buffer(data, start), start, lazy)
    if fast is None:
        return None
    return RawTable(fast[0], fast[1], detected, {})


def pa_buffer(data: bytes, start: int = 0):
    """The bytes from `start` as an Arrow buffer over the same memory (no copy)."""
    import pyarrow as pa

    return pa.py_buffer(data).slice(start)


_DECODE_BLOCK = 1 << 20
_BARE_CR_BYTES = re.compile(b"\r(?!\n)")


# The csv module's default stops at 128 KB a value with an error; a long value is read (the
# file's size bounds it) and validation rejects it as too long for its column.
csv.field_size_limit(2**31 - 1)
SNIFF_CHARS = 4_000_000


def _malformed(problem: csv.Error, start: int, end: int) -> FileRejected:
    message = str(problem)
    if "unexpected end of data" in message:
        return FileRejected(
            f'Line {start} opens a quoted value (") that is never closed: the rest of the file '
            f"would be read as one value. Close the quote on line {start} and try again."
        )
    if "expected after" in message and end > start:
        return FileRejected(
            f'Line {start} opens a quoted value (") that runs on to line {end}, where a quote '
            f"closes it in the middle of a value. Close the quote on line {start} and try again."
        )
    if "expected after" in message:
        return FileRejected(
            f"Line {end} has a quoted value followed by more text before the delimiter "
            f"({message}); write the whole value inside the quotes and try again."
        )
    return FileRejected(f"Line {end} cannot be read as CSV ({message}).")


def _line_of(text: str, position: int) -> int:
    """The physical line (counting \n, \r and \r\n) of a character position."""
    before = text[:position]
    return before.count("\n") + before.replace("\r\n", "").count("\r") + 1


def _first_records(text: str, count: int = 20) -> list[list[str]]:
    """The first records, for sniffing; read with the csv module so that CR-only lines and
    long quoted values in the first lines are read as they are meant."""
    out = []
    head = text[:SNIFF_CHARS]
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
        records = []
        try:
            for record in reader:
                if record and any(cell.strip() for cell in record):
                    records.append(record)
                if len(records) >= count:
                    break
        except csv.Error:
            pass  # judged on the records read so far
        out.append(records)
    return out


def decode_text(
    data: bytes, encoding: str | None, detected: Detected
) -> tuple[str, dict[int, str]]:
    """The file's text, with one decoding decided for the whole file.

    UTF-16 is recognised by its byte-order mark (Excel's "Unicode text"). A file that is
    valid UTF-8 is UTF-8. When bytes break UTF-8: if the file also holds valid UTF-8
    letters (ü written as two bytes, as UTF-8 writes it; in cp1252 text such a pair is an
    uppercase letter followed by a symbol, rare) and no more than ten bad bytes per such
    letter, it is UTF-8 with a few bad bytes, and the lines holding them are returned to be
    rejected; otherwise it is cp1252 (or
    latin-1 for the five bytes cp1252 lacks) and the bytes that broke UTF-8 are named.
    Returns (text, {line: reason}).
    """
    if encoding:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as problem:
            raise FileRejected(f"The file cannot be read as {encoding} ({problem}).") from problem
        detected.encoding = encoding
        return text.removeprefix("\ufeff"), {}
    for bom, name in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                text = data[2:].decode(name)
            except UnicodeDecodeError as problem:
                raise FileRejected(
                    f"The file starts as UTF-16 but byte {problem.start + 2:,} is not UTF-16; "
                    "export it again."
                ) from problem
            detected.encoding = "utf-16 (with BOM)"
            return text, {}
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    bom = " (with BOM)" if body is not data else ""
    try:
        detected.encoding = "utf-8" + bom
        return body.decode("utf-8"), {}
    except UnicodeDecodeError:
        pass
    # Bytes that break UTF-8 become lone surrogates (U+DC80–U+DCFF): found in one pass.
    escaped = body.decode("utf-8", errors="surrogateescape")
    bad = [(m.start(), ord(m.group()) - 0xDC00) for m in _ESCAPED.finditer(escaped)]
    letters = sum(1 for _ in _LETTER.finditer(escaped))
    if bom or (letters and len(bad) <= 10 * letters):
        lines: dict[int, set[str]] = {}
        for position, byte in bad:
            lines.setdefault(_line_of(escaped, position), set()).add(f"0x{byte:02X}")
        detected.encoding = "utf-8" + bom
        detected.encoding_note = (
            f"{len(bad)} byte(s) on {len(lines)} line(s) are not UTF-8; the rest of the file "
            "is, so it is read as UTF-8 and those lines are rejected"
        )
        text = _ESCAPED.sub("\ufffd", escaped)
        return text, {
            line: f"byte(s) {', '.join(sorted(found))} on this line are not UTF-8 (the rest of "
            "the file is); fix them at the source and import the line again"
            for line, found in lines.items()
        }
    named = ", ".join(sorted({f"0x{b:02X}" for _, b in bad})[:5])
    line = _line_of(escaped, bad[0][0])
    try:
        text = body.decode("cp1252")
        detected.encoding = "cp1252"
    except UnicodeDecodeError:
        text = body.decode("latin-1")
        detected.encoding = "latin-1"
    detected.encoding_note = (
        f"not UTF-8: byte(s) {named} (the first on line {line}) are not UTF-8 and no UTF-8 "
        f"letter is in the file, so it is read as {detected.encoding}"
    )
    return text, {}


_ESCAPED = re.compile("[\udc80-\udcff]")
_LETTER = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")


_BARE_CR = re.compile("\r(?!\n)")
# A line break followed by a line of spaces (or none) and the next break or the end.
_BLANK_AFTER = re.compile("\n[^\\S\n]*(?=\n|\\Z)")


def _quoted_lines(text: str | bytes, start: int = 0) -> Iterator[str | bytes]:
    """Every line holding a quote (of text, or of UTF-8 bytes from `start`), found by
    str.find (a regex over every line is 50x slower on a 200 MB file)."""
    quote, newline = ('"', "\n") if isinstance(text, str) else (b'"', b"\n")
    at = text.find(quote, start)
    while at >= 0:
        end = text.find(newline, at)
        end = len(text) if end < 0 else end
        yield text[max(start, text.rfind(newline, 0, at) + 1) : end]
        at = text.find(quote, end)


def _blank_lines(text: str | bytes, start: int = 0) -> list[int]:
    """The numbers of the lines holding nothing but spaces (of text, or of UTF-8 bytes
    from `start`)."""
    newline, blank_after = ("\n", _BLANK_AFTER) if isinstance(text, str) else (b"\n", _BLANK_BYTES)
    first = text.find(newline, start)
    blank = [1] if not text[start : len(text) if first < 0 else first].strip() else []
    line, seen = 1, start
    for match in blank_after.finditer(text, start):
        line += text.count(newline, seen, match.start() + 1)
        seen = match.start() + 1
        blank.append(line)
    return blank


_BLANK_BYTES = re.compile(b"\n[^\\S\n]*(?=\n|\\Z)")


def _read_csv_fast(lines: str | bytes, delimiter: str, utf8, start: int = 0, lazy: bool = False):
    """Arrow's C++ reader for the common case, ten times faster than the csv module.

    Taken only when no quoted field spans lines (every line has an even number of quotes)
    and every row has the header's width, so that physical line numbers are simply the
    non-blank lines in order; anything else goes through the csv module, which reports
    each odd row. `lines`: the text, or its UTF-8 bytes (scanned from `start`); `utf8`: the
    UTF-8 bytes Arrow reads. The lines are found by searching, never held as a list, and
    Arrow reads a block at a time, each block's strings taken as the frame's own (no copy
    of the whole table is made). Returns (header, rows) or None; with `lazy` (bytes only)
    the rows are a LazyRows, the file read through once here to check it and its lines
    read again when asked for."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # Arrow reads `"Acme" Inc` as a value without a word; the csv module reports it.
    well_formed = _quoted_line(delimiter, bytes_=not isinstance(lines, str))
    quote, cr = ('"', "\r") if isinstance(lines, str) else (b'"', b"\r")
    for line in _quoted_lines(lines, start):
        if line.count(quote) % 2 or not well_formed.fullmatch(line.rstrip(cr)):
            return None
    blank = _blank_lines(lines, start)
    newline = "\n" if isinstance(lines, str) else b"\n"
    numbers = np.delete(
        np.arange(1, lines.count(newline, start) + 2), np.array(blank, dtype=int) - 1
    )
    if len(numbers) < 2:
        return None
    # Every column read as text, never inferred: as many names as the header line has
    # delimiters, and one (a quoted delimiter makes the header narrower, never wider).
    header_at = start
    for _ in range(numbers[0] - 1):
        header_at = lines.find(newline, header_at) + 1
    header_end = lines.find(newline, header_at)
    header_line = lines[header_at : header_end if header_end >= 0 else len(lines)]
    mark = delimiter if isinstance(lines, str) else delimiter.encode()
    names = [f"f{i}" for i in range(header_line.count(mark) + 1)]
    chunks: list[list] = []
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False)
    lazy = lazy and not isinstance(lines, str)
    counted, header, width = 0, None, 0
    try:
        reader = pacsv.open_csv(
            pa.BufferReader(utf8),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 22),
            parse_options=parse,
            convert_options=_text_columns(names),
        )
        for batch in reader:
            if lazy:  # checked and counted, not kept
                if header is None and batch.num_rows:
                    header = [
                        str(batch.column(i)[0].as_py()).strip() for i in range(batch.num_columns)
                    ]
                    width = batch.num_columns
                counted += batch.num_rows
                continue
            # pandas holds text as large strings: each block converted on its own.
            chunks.append(
                [batch.column(i).cast(pa.large_string()) for i in range(batch.num_columns)]
            )
    except pa.ArrowInvalid:
        return None  # e.g. rows of another width
    finally:
        pa.default_memory_pool().release_unused()  # the reader's scratch memory, back to the OS
    if lazy:
        if header is None or counted != len(numbers):
            return None
        rows = LazyRows(lines, _line_starts(lines, start), numbers, width, parse)
        return header, rows
    columns = [pa.chunked_array(parts, pa.large_string()) for parts in zip(*chunks, strict=True)]
    del chunks
    if not columns or len(columns[0]) != len(numbers):
        return None
    header = [str(column[0].as_py()).strip() for column in columns]
    # The columns keep Arrow's blocks of rows (no combined copy): a check that goes through
    # the rows in chunks and drops the ones done frees their blocks as it goes.
    frame = pd.DataFrame(
        {i: pd.Series(column.slice(1), dtype="str") for i, column in enumerate(columns)}
    )
    del columns
    frame["_line"] = numbers[1:]
    frame["_width"] = len(header)
    return header, frame


def _text_columns(names: list[str], include: list[str] | None = None):
    """Every column read as text as written: never inferred, never null (`include`: only
    these columns)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        auto_dict_encode=False,
        null_values=[],
        include_missing_columns=False,
        include_columns=include or [],
    )


def _line_starts(data: bytes, start: int) -> np.ndarray:
    """The offset of each physical line's first byte (line 1 at `start`), found a block of
    the bytes at a time."""
    every = np.frombuffer(data, dtype=np.uint8)
    parts = [np.array([start], dtype=np.int64)]
    for at in range(start, len(data), _DECODE_BLOCK * 16):
        block = every[at : at + _DECODE_BLOCK * 16]
        parts.append(np.flatnonzero(block == 10).astype(np.int64) + (at + 1))
    return np.concatenate(parts)


class LazyRows:
    """The rows of a plain UTF-8 CSV (one record a line, every row of the header's width,
    checked when the file was first read through) as a frame's slices would give them,
    read from the file's bytes only when asked for: `len()`, `iloc[a:b]` (another
    LazyRows), `frame()` (the rows as RawTable.rows holds them), `head(n)` (the first n
    as a frame), `rows[i]` (column i of every row, for detection). `transforms` (functions of a frame, changed in place) are
    applied to whatever is read."""

    def __init__(self, data, starts, numbers, width, parse, begin=0, end=None, transforms=None):
        self.data, self.starts, self.numbers = data, starts, numbers
        self.width, self.parse = width, parse
        self.begin = begin
        self.end = len(numbers) - 1 if end is None else end
        self.transforms = [] if transforms is None else transforms

    def __len__(self) -> int:
        return self.end - self.begin

    @property
    def iloc(self):
        return _Slicer(self)

    def _view(self, begin: int, end: int) -> LazyRows:
        return LazyRows(
            self.data,
            self.starts,
            self.numbers,
            self.width,
            self.parse,
            begin,
            end,
            self.transforms,
        )

    def _table(self, columns: list[str] | None = None):
        """Rows begin..end (0 = the first after the header) as an Arrow table."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        # What the previous range's reading and checks freed, back to the OS before this
        # one (Arrow's pool keeps freed pages otherwise: the check would grow with the file).
        pa.default_memory_pool().release_unused()
        names = [f"f{i}" for i in range(self.width)]
        if not len(self):
            return pa.table({n: pa.array([], pa.large_string()) for n in columns or names})
        first = self.starts[self.numbers[self.begin + 1] - 1]
        last = self.numbers[self.end]  # the physical line after the last row's
        stop = self.starts[last] if last < len(self.starts) else len(self.data)
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(self.data).slice(first, stop - first)),
            # One thread: Arrow's threads each keep the pages of the blocks they read
            # (+300 MB at 200 MB read through, never given back); one is as fast here.
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=1 << 22, use_threads=False
            ),
            parse_options=self.parse,
            convert_options=_text_columns(names, columns),
        )
        return table

    def head(self, rows: int) -> pd.DataFrame:
        return self.iloc[:rows].frame()

    def frame(self) -> pd.DataFrame:
        import pyarrow as pa

        table = self._table()
        index = pd.RangeIndex(self.begin, self.end)
        frame = pd.DataFrame(
            {
                i: pd.Series(table.column(i).cast(pa.large_string()), dtype="str", index=index)
                for i in range(self.width)
            }
        )
        del table
        frame["_line"] = self.numbers[self.begin + 1 : self.end + 1]
        frame["_width"] = self.width
        for transform in self.transforms:
            transform(frame)
        return frame

    def __getitem__(self, column: int) -> pd.Series:
        import pyarrow as pa

        values = self._table([f"f{column}"]).column(0).cast(pa.large_string())
        frame = pd.DataFrame(
            {column: pd.Series(values, dtype="str", index=pd.RangeIndex(self.begin, self.end))}
        )
        del values
        for transform in self.transforms:
            transform(frame)
        return frame[column]


class _Slicer:
    def __init__(self, rows: LazyRows):
        self.rows = rows

    def __getitem__(self, at: slice) -> LazyRows:
        begin, end, step = at.indices(len(self.rows))
        if step != 1:
            raise ValueError("LazyRows slices take every row")
        return self.rows._view(self.rows.begin + begin, self.rows.begin + max(begin, end))


def _quoted_line(delimiter: str, bytes_: bool = False) -> re.Pattern:
    """A line whose every quoted value is quoted whole, as in: "a ""b"" c",d (a pattern
    over UTF-8 bytes when `bytes_`: no byte of a longer character is a quote or one of
    DELIMITERS)."""
    d = re.escape(delimiter)
    field = f'(?:"(?:[^"]|"")*"|[^"{d}]*)'
    pattern = f"{field}(?:{d}{field})*"
    return re.compile(pattern.encode() if bytes_ else pattern)


def _sniff_delimiter(samples: list[list[list[str]]]) -> str:
    """The delimiter that splits the header and the next records into the same, largest
    number of fields (samples: the first records as each of DELIMITERS reads them)."""
    best, best_score = ",", 0
    for delimiter, records in zip(DELIMITERS, samples, strict=True):
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(len(record) == width for record in records[1:])
        score = width * 1000 + consistent
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _frame(header: list[str], records: list[list[str]], numbers: list[int]) -> pd.DataFrame:
    width = len(header)
    padded = [(r + [""] * (width - len(r)))[:width] if len(r) != width else r for r in records]
    columns = list(zip(*padded, strict=True)) if padded else [()] * width
    frame = pd.DataFrame({i: pd.array(column, dtype="str") for i, column in enumerate(columns)})
    frame["_line"] = numbers
    frame["_width"] = [len(r) for r in records]
    return frame


def _read_xlsx(data: bytes, options: Options) -> RawTable:
    from openpyxl import load_workbook  # parses with defusedxml when it is installed

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
            if unpacked > MAX_XLSX_UNPACKED_BYTES:
                raise FileRejected(
                    f"This workbook unpacks to {unpacked / 1e6:,.0f} MB; at most "
                    f"{MAX_XLSX_UNPACKED_BYTES / 1e6:,.0f} MB is read. Export the data as CSV."
                )
            # Counted in the sheets' XML before openpyxl opens the workbook (which parses
            # every row of a sheet that states no dimension, to find its size): a 0.4 MB
            # file of 3 million one-cell rows is refused in seconds, not minutes.
            for part in archive.namelist():
                if part.startswith("xl/worksheets/") and part.endswith(".xml"):
                    rows_found, cells_found = _count_rows_and_cells(archive, part)
                    if rows_found > MAX_XLSX_ROWS or cells_found > MAX_XLSX_CELLS:
                        raise FileRejected(
                            f"A sheet of this workbook ({part.rsplit('/', 1)[-1]}) has "
                            f"{rows_found:,} rows and {cells_found:,} cells; an XLSX is read "
                            f"up to {MAX_XLSX_ROWS:,} rows and {MAX_XLSX_CELLS:,} cells. "
                            "Export the data as CSV, or split the file."
                        )
            _check_xml_parts(archive)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileRejected:
        raise  # a limit's own report, or a damaged part named
    except (zipfile.BadZipFile, KeyError, OSError) as problem:
        raise FileRejected(f"This XLSX file cannot be opened ({problem}). {_RESAVE}") from problem
    except MemoryError:
        raise
    except Exception as problem:  # openpyxl raises many types for a damaged part
        raise _damaged(problem) from problem
    sheets = tuple(book.sheetnames)
    if not sheets:
        raise FileRejected(f"The workbook lists no sheet (xl/workbook.xml). {_RESAVE}")
    sheet = options.sheet or sheets[0]
    if sheet not in sheets:
        raise FileRejected(f"The workbook has no sheet “{sheet}”; it has {', '.join(sheets)}.")
    detected = Detected(format="xlsx", sheet=sheet, sheets=sheets, date_format="%Y-%m-%d")
    try:
        header, records, numbers = _sheet_rows(book, sheet)
    except FileRejected:
        raise
    except MemoryError:
        raise
    except Exception as problem:  # a damaged sheet, or a cell naming a missing shared string
        part = getattr(book[sheet], "_worksheet_path", None) or f"the sheet “{sheet}”"
        raise _damaged(problem, part) from problem
    finally:
        book.close()
    if header is None:
        raise FileRejected(f"The sheet “{sheet}” is empty.")
    raw = RawTable(header, _frame(header, records, numbers), detected)
    raw.rows["_width"] = len(header)  # a spreadsheet row has every column
    return raw


def _sheet_rows(book, sheet: str):
    """The header, the non-empty rows (as text, cut to the header's width) and their row
    numbers of one sheet."""
    header, records, numbers = None, [], []
    cells_read = 0
    for number, values in enumerate(book[sheet].iter_rows(values_only=True), start=1):
        cells_read += len(values)
        if number > MAX_XLSX_ROWS or cells_read > MAX_XLSX_CELLS:  # the count missed some
            raise _too_many_rows(
                sheet, f"has more than {number - 1:,} rows or {cells_read:,} cells"
            )
        cells = ["" if v is None else _cell_text(v) for v in values]
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            while header and not header[-1]:
                header.pop()
            continue
        records.append(cells[: len(header)])
        numbers.append(number)
    return header, records, numbers


_RESAVE = (
    "Open it in Excel (or LibreOffice) and save it again as an Excel workbook, or export "
    "the sheet as CSV, and import that file."
)
# What each part of a workbook holds, and the step of openpyxl's reader that reads it.
_PARTS = {
    "[Content_Types].xml": "the list of the file's parts",
    "_rels/.rels": "where the workbook is",
    "xl/workbook.xml": "the list of sheets",
    "xl/_rels/workbook.xml.rels": "where the sheets are",
    "xl/styles.xml": "the cell formats",
    "xl/sharedStrings.xml": "the text of the cells",
    "docProps/core.xml": "the document properties",
    "docProps/custom.xml": "the custom properties",
}
_STEPS = {
    "read_manifest": "[Content_Types].xml",
    "read_strings": "xl/sharedStrings.xml",
    "read_workbook": "xl/workbook.xml",
    "read_properties": "docProps/core.xml",
    "read_custom": "docProps/custom.xml",
    "read_theme": "xl/theme/theme1.xml",
    "apply_stylesheet": "xl/styles.xml",
    "read_worksheets": "the worksheets",
}


def _describe(part: str) -> str:
    what = _PARTS.get(part) or ("a sheet" if part.startswith("xl/worksheets/") else "")
    return f"{part} ({what})" if what else part


def _check_xml_parts(archive: zipfile.ZipFile) -> None:
    """Every XML part but the sheets (which openpyxl reads a row at a time, and whose
    failures are named as they happen) parsed once, so that a damaged one is named."""
    from defusedxml.ElementTree import iterparse

    for info in archive.infolist():
        part = info.filename
        if part.startswith("xl/worksheets/") or not part.endswith((".xml", ".rels")):
            continue
        try:
            with archive.open(info) as source:
                for _ in iterparse(source):
                    pass
        except MemoryError:
            raise
        except Exception as problem:  # expat's ParseError, defusedxml's refusals
            raise FileRejected(
                f"This workbook is damaged: its part {_describe(part)} is not well-formed "
                f"XML ({type(problem).__name__}: {problem}). {_RESAVE}"
            ) from problem


def _damaged(problem: BaseException, part: str | None = None) -> FileRejected:
    """A report naming the part of the workbook that openpyxl failed on (found from the
    step of its reader the failure came from, when not given)."""
    if part is None:
        seen, chain = set(), problem
        while chain is not None and id(chain) not in seen:
            seen.add(id(chain))
            for frame in traceback.extract_tb(chain.__traceback__):
                part = _STEPS.get(frame.name, part)
            chain = chain.__cause__ or chain.__context__
    where = f"its part {_describe(part)}" if part else "one of its parts"
    detail = str(problem).splitlines()[0] if str(problem) else ""
    return FileRejected(
        f"This workbook is damaged: {where} cannot be read ({type(problem).__name__}"
        f"{': ' + detail if detail else ''}). {_RESAVE}"
    )


# What an XLSX may hold: Excel's own sheet limit of rows, the cells openpyxl reads in about a
# minute here, and an unpacked size such a file stays within. openpyxl reads ~15 us of CPU
# a cell (an orders sheet of 100,000 lines x 18 columns: 30 s CPU, 363 MB; at Excel's row
# limit, 18.9 million cells, ~5 minutes: benchmarks/README.md, issue 18): 4,000,000 cells
# is ~220,000 order lines of the template's 18 columns. A CSV has no such limit.
MAX_XLSX_ROWS = 1_048_576
MAX_XLSX_CELLS = 4_000_000
MAX_XLSX_UNPACKED_BYTES = 1_000_000_000


def _count_rows_and_cells(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """The <row> and <c> elements of a sheet's XML, counted while it is unpacked a megabyte
    at a time (the unpacked size is checked first, so this is bounded too)."""
    rows = cells = 0
    tail = b""
    with archive.open(part) as sheet:
        while block := sheet.read(1 << 20):
            text = tail + block
            # Tags cut at the block's end are counted with the next block.
            cut = text.rfind(b"<")
            text, tail = text[:cut], text[cut:]
            rows += text.count(b"<row>") + text.count(b"<row ")
            cells += text.count(b"<c>") + text.count(b"<c ")
    rows += tail.count(b"<row>") + tail.count(b"<row ")
    cells += tail.count(b"<c>") + tail.count(b"<c ")
    return rows, cells


def _too_many_rows(sheet: str, what: str) -> FileRejected:
    return FileRejected(
        f"The sheet “{sheet}” {what}; an XLSX is read up to {MAX_XLSX_ROWS:,} rows and "
        f"{MAX_XLSX_CELLS:,} cells. Export the data as CSV, or split the file."
    )


def _cell_text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_parquet(data: bytes) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as problem:  # pyarrow raises several types for a damaged file
        raise FileRejected(f"This Parquet file cannot be read ({problem}).") from problem
    header = [str(c) for c in table.column_names]
    columns = []
    for name, column in zip(header, table.columns, strict=True):
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            values = column.fill_null("").to_pylist()
        elif pa.types.is_integer(kind):
            values = column.cast(pa.string()).fill_null("").to_pylist()
        else:
            values = [_parquet_text(name, i, v) for i, v in enumerate(column.to_pylist(), 1)]
        columns.append(pd.array(values, dtype="str"))
    frame = pd.DataFrame(dict(enumerate(columns)))
    frame["_line"] = range(1, table.num_rows + 1)
    frame["_width"] = len(header)
    return RawTable(header, frame, Detected(format="parquet", date_format="%Y-%m-%d"))


def _parquet_text(column: str, row: int, value) -> str:
    """A typed Parquet value as the text a CSV export would hold."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as problem:
            raise FileRejected(
                f"Row {row} of column “{column}” holds bytes that are not UTF-8 text."
            ) from problem
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # the day as written in the file's zone
    if isinstance(value, float) and not np.isfinite(value):
        return "inf" if value > 0 else "-inf"
    return _cell_text(value)


def ecb_wide_to_long(raw: RawTable) -> RawTable:
    """The ECB's daily-history layout (Date, USD, JPY, … with N/A for no rate) as rows of
    rate_date, currency, units_per_eur; any other layout is returned as it is."""
    names = [normalise(h) for h in raw.header]
    currencies = [i for i, h in enumerate(raw.header) if re.fullmatch(r"[A-Z]{3}", h.strip())]
    if not names or names[0] != "date" or len(currencies) < 2:
        return raw
    records, numbers = [], []
    rows = raw.rows.frame() if isinstance(raw.rows, LazyRows) else raw.rows
    for row in rows.itertuples(index=False):
        values = list(row)
        for i in currencies:
            value = str(values[i]).strip()
            if value and value.upper() != "N/A":
                records.append([values[0], raw.header[i].strip(), value])
                numbers.append(values[-2])  # _line
    header = ["rate_date", "currency", "units_per_eur"]
    frame = _frame(header, records, numbers)
    raw.detected.format += " (ECB daily history layout)"
    return RawTable(header, frame, raw.detected)
