"""Bytes to a table of strings: CSV (encoding and delimiter sniffed), XLSX, Parquet, and
the ECB's wide daily-rate layout.

Lines are numbered as in the file, header = line 1 (CSV) or as the sheet's row (XLSX);
Parquet rows count from 1.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zipfile

import numpy as np
import pandas as pd

from analytics.importer.columns import normalise
from analytics.importer.parsing import DATE_FORMATS
from analytics.importer.report import FileRejected

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
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

    def describe(self) -> dict:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": {"\t": "tab"}.get(self.delimiter, self.delimiter),
            "decimal_mark": "," if self.decimal_comma else ".",
            "date_format": DATE_FORMATS.get(self.date_format, self.date_format),
            "sheet": self.sheet,
        }


@dataclasses.dataclass
class RawTable:
    header: list[str]
    rows: pd.DataFrame  # every value a string, column "_line" = line in the file
    detected: Detected


def read_file(data: bytes, options: Options = DETECT) -> RawTable:
    """Read CSV, XLSX or Parquet into strings, detecting what the options leave open."""
    if not data.strip():
        raise FileRejected("The file is empty.")
    if data[:4] == b"PAR1":
        return _read_parquet(data)
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, options)
    return _read_csv(data, options)


def _read_csv(data: bytes, options: Options) -> RawTable:
    if b"\x00" in data[:4096]:
        raise FileRejected(
            "This is not a text (CSV) file: it holds binary data. Export the data as CSV or "
            "XLSX and try again."
        )
    detected = Detected(format="csv")
    text = None
    for encoding in [options.encoding] if options.encoding else ENCODINGS:
        try:
            text = data.decode(encoding)
            detected.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
            if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
                detected.encoding = "utf-8 (with BOM)"
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        raise FileRejected(f"The file cannot be read as {options.encoding}.")
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), "")
    detected.delimiter = options.delimiter or _sniff_delimiter(first, lines[1:20])
    fast = _read_csv_fast(text, lines, detected.delimiter)
    if fast is not None:
        return RawTable(fast[0], fast[1], detected)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detected.delimiter)
    records, numbers = [], []
    header = None
    for record in reader:
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line; rows of empty fields are kept and reported
        if header is None:
            header = [cell.strip() for cell in record]
            continue
        records.append(record)
        numbers.append(reader.line_num)
    if header is None:
        raise FileRejected("The file is empty.")
    return RawTable(header, _frame(header, records, numbers), detected)


def _read_csv_fast(text: str, lines: list[str], delimiter: str):
    """Arrow's C++ reader for the common case, ten times faster than the csv module.

    Taken only when no quoted field spans lines (every line has an even number of quotes)
    and every row has the header's width, so that physical line numbers are simply the
    non-blank lines in order; anything else goes through the csv module, which reports
    each odd row. Returns (header, rows) or None."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if any(line.count('"') % 2 for line in lines):
        return None
    numbers = [i for i, line in enumerate(lines, start=1) if line.strip()]
    if len(numbers) < 2:
        return None
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            convert_options=pacsv.ConvertOptions(
                column_types={},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                auto_dict_encode=False,
                null_values=[],
                include_missing_columns=False,
            ),
        )
    except pa.ArrowInvalid:
        return None  # e.g. rows of another width
    table = table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
    if table.num_rows != len(numbers):
        return None
    header = [str(v).strip() for v in table.slice(0, 1).to_pylist()[0].values()]
    body = table.slice(1)
    frame = pd.DataFrame(
        {i: pd.Series(body.column(i).combine_chunks(), dtype="str") for i in range(len(header))}
    )
    frame["_line"] = numbers[1:]
    frame["_width"] = len(header)
    return header, frame


def _sniff_delimiter(header: str, sample: list[str]) -> str:
    """The delimiter that splits the header and the next lines into the same, largest
    number of fields."""
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        width = len(next(csv.reader([header], delimiter=delimiter)))
        if width < 2:
            continue
        consistent = sum(
            len(next(csv.reader([line], delimiter=delimiter))) == width
            for line in sample
            if line.strip()
        )
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
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as problem:
        raise FileRejected(f"This XLSX file cannot be opened ({problem}).") from problem
    sheets = tuple(book.sheetnames)
    sheet = options.sheet or sheets[0]
    if sheet not in sheets:
        raise FileRejected(f"The workbook has no sheet “{sheet}”; it has {', '.join(sheets)}.")
    detected = Detected(format="xlsx", sheet=sheet, sheets=sheets, date_format="%Y-%m-%d")
    header, records, numbers = None, [], []
    for number, values in enumerate(book[sheet].iter_rows(values_only=True), start=1):
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
    book.close()
    if header is None:
        raise FileRejected(f"The sheet “{sheet}” is empty.")
    raw = RawTable(header, _frame(header, records, numbers), detected)
    raw.rows["_width"] = len(header)  # a spreadsheet row has every column
    return raw


def _cell_text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_parquet(data: bytes) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as problem:  # pyarrow raises several types for a damaged file
        raise FileRejected(f"This Parquet file cannot be read ({problem}).") from problem
    frame = table.to_pandas()
    header = [str(c) for c in frame.columns]
    records = [
        [_cell_text(v) if v is not None and not _is_nan(v) else "" for v in row]
        for row in frame.itertuples(index=False)
    ]
    raw = RawTable(
        header,
        _frame(header, records, list(range(1, len(records) + 1))),
        Detected(format="parquet", date_format="%Y-%m-%d"),
    )
    return raw


def _is_nan(value) -> bool:
    return isinstance(value, float) and np.isnan(value)


def ecb_wide_to_long(raw: RawTable) -> RawTable:
    """The ECB's daily-history layout (Date, USD, JPY, … with N/A for no rate) as rows of
    rate_date, currency, units_per_eur; any other layout is returned as it is."""
    names = [normalise(h) for h in raw.header]
    currencies = [i for i, h in enumerate(raw.header) if re.fullmatch(r"[A-Z]{3}", h.strip())]
    if not names or names[0] != "date" or len(currencies) < 2:
        return raw
    records, numbers = [], []
    for row in raw.rows.itertuples(index=False):
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
