"""Peak memory and time of the Data page's check (or load) of an upload (issue 18).

Usage:
  python benchmarks/upload_memory.py check FILE STORE [--chunk-rows N] [--commit [--keep OUT]]
      `import_file(commit=False)` of an orders FILE (CSV or XLSX) against a private copy of
      STORE, in this process: prints wall and CPU time, peak RSS (getrusage: the whole
      process, the file's own bytes included) and the report's counts; run one per process
      (a fresh process per measurement), e.g. under /usr/bin/time -v. With --commit, the
      load (`commit=True`) into the copy; --keep OUT keeps the loaded copy as OUT.
  python benchmarks/upload_memory.py digest STORE
      A digest of every table of a store (rows sorted, numbers to 10 digits; import_log
      without its times and ids, the undo record without the import id) and of
      order_lines' physical order: two loads that stored the same give the same digest.
      Its own process, so that reading the tables back does not count in the load's peak.
  python benchmarks/upload_memory.py compare STORE STORE
      Two stores table by table: rows whose other columns match (import ids and times
      aside), rows of either without a match, and the largest relative difference of a
      DOUBLE column between matched rows (DuckDB's threads add a month's lines in no fixed
      order: the rollups' sums differ in their last bits between two runs of one load).
  python benchmarks/upload_memory.py xlsx CSV OUT --rows N
      An XLSX of the first N lines of an orders CSV, written as Excel writes a sheet
      (shared strings, dates as serial numbers with a date format, cell references), so
      that openpyxl reads it as it reads a real export.

The CSV files are exported as benchmarks/import_orders.py does (every template column of a
bench store's first lines): `export(source, path, lines, mapped=False)` from there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def check(
    path: Path, store: Path, chunk_rows: int | None, commit: bool = False, keep: Path | None = None
) -> dict:
    import duckdb

    from analytics import importer

    data = path.read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "store.duckdb"
        shutil.copyfile(store.resolve(), copy)
        con = duckdb.connect(str(copy))
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            extra = {"chunk_rows": chunk_rows} if chunk_rows else {}
            report = importer.import_file(con, "orders", data, path.name, commit=commit, **extra)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            con.close()
        if keep is not None:
            shutil.copyfile(copy, keep)
    reasons = json.dumps(report.rejected, sort_keys=True, default=str).encode()
    return {
        "file": path.name,
        "mb": round(len(data) / 1e6, 1),
        "status": report.status,
        "read": report.rows_read,
        "loadable": report.rows_loaded,
        "rejected": report.rows_rejected,
        "reasons": len(report.rejected),
        "reasons_sha256": hashlib.sha256(reasons).hexdigest()[:16],
        "message": report.message[:200],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load": open("/proc/loadavg").read().split()[:3],
    }


def digest(store: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        return _stored(con)
    finally:
        con.close()


def compare(first: Path, second: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{first}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{second}' AS b (READ_ONLY)")
    skip = {"import_id", "started_at", "finished_at"}
    out = {}
    tables = con.execute(
        "SELECT DISTINCT table_name FROM information_schema.tables WHERE table_catalog = 'a' "
        "ORDER BY 1"
    ).fetchall()
    for (table,) in tables:
        types = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = 'a' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        keys = [f'"{c}"' for c, t in types if t != "DOUBLE" and c not in skip]
        numbers = [f'"{c}"' for c, t in types if t == "DOUBLE"]
        on = " AND ".join(f"x.{k} IS NOT DISTINCT FROM y.{k}" for k in keys) or "true"
        sizes = [con.execute(f'SELECT count(*) FROM {db}."{table}"').fetchone()[0] for db in "ab"]
        matched = con.execute(
            f'SELECT count(*) FROM a."{table}" x JOIN b."{table}" y ON {on}'
        ).fetchone()[0]
        worst = 0.0
        if numbers and matched:
            spread = ", ".join(
                f"max(abs(x.{n} - y.{n}) / greatest(abs(x.{n}), 1e-9))" for n in numbers
            )
            found = con.execute(
                f'SELECT {spread} FROM a."{table}" x JOIN b."{table}" y ON {on}'
            ).fetchone()
            worst = max((v or 0.0) for v in found)
        out[table] = {"rows": sizes, "matched": matched, "max_relative_difference": worst}
    physical = [
        con.execute(f"SELECT order_date, order_id, line_no FROM {db}.order_lines").fetchall()
        for db in "ab"
    ]
    out["order_lines physical order equal"] = physical[0] == physical[1]
    return out


def _stored(con) -> dict:
    """A digest of every table of the store after the load (rows in a fixed order;
    import_log without its times and id, the undo record without the import id), and of
    order_lines' physical order."""
    special = {
        "import_log": "SELECT kind, file_name, sha256, rows_read, rows_loaded, rows_rejected, "
        "status FROM import_log",
        "imported_order_lines": "SELECT order_id, line_no, inserted FROM imported_order_lines",
    }
    tables = [t for (t,) in con.execute("SHOW TABLES").fetchall()]
    out = {}
    for name in tables:
        rows = con.execute(special.get(name, f'SELECT * FROM "{name}"')).fetchall()
        # Numbers to 10 significant digits: DuckDB's threads add a month's lines in no fixed
        # order, so the last bits of a sum differ from one run to the next.
        rows = [tuple(float(f"{v:.10g}") if isinstance(v, float) else v for v in r) for r in rows]
        text = repr(sorted(rows, key=repr)).encode()
        out[name] = f"{len(rows)} rows, sha256 {hashlib.sha256(text).hexdigest()[:16]}"
    physical = con.execute("SELECT order_date, order_id, line_no FROM order_lines").fetchall()
    out["order_lines_physical"] = hashlib.sha256(repr(physical).encode()).hexdigest()[:16]
    return {"stored": out}


_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year quirk folded in)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def write_xlsx(csv_path: Path, out: Path, rows: int) -> None:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(csv_path).slice(0, rows)
    names = table.column_names
    columns = [table.column(i).to_pylist() for i in range(len(names))]
    letters = [_column(i) for i in range(len(names))]
    strings: dict[str, int] = {}

    def shared(value: str) -> int:
        return strings.setdefault(value, len(strings))

    def cell(ref: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return f'<c r="{ref}" s="1"><v>{(value - _EPOCH).days}</v></c>'
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return f'<c r="{ref}" t="s"><v>{shared(str(value))}</v></c>'

    sheet = Path(tempfile.mkstemp(suffix=".xml")[1])
    with sheet.open("w", encoding="utf-8") as xml:
        xml.write(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="A1:{letters[-1]}{table.num_rows + 1}"/><sheetData>'
        )
        header = "".join(cell(f"{c}1", n) for c, n in zip(letters, names, strict=True))
        xml.write(f'<row r="1">{header}</row>')
        for i in range(table.num_rows):
            r = i + 2
            body = "".join(
                cell(f"{c}{r}", column[i]) for c, column in zip(letters, columns, strict=True)
            )
            xml.write(f'<row r="{r}">{body}</row>')
        xml.write("</sheetData></worksheet>")
    shared_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        + "</sst>"
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006"
    sml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{package}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{sml}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sml}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{sml}.sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{sml}.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{main}"><fonts count="1"><font><sz val="11"/>'
            '<name val="Calibri"/></font></fonts><fills count="1"><fill>'
            '<patternFill patternType="none"/></fill></fills><borders count="1"><border>'
            "<left/><right/><top/><bottom/><diagonal/></border></borders>"
            '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/>'
            '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'
        ),
        "xl/sharedStrings.xml": shared_xml,
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        archive.write(sheet, "xl/worksheets/sheet1.xml")
    sheet.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("check")
    run.add_argument("file", type=Path)
    run.add_argument("store", type=Path)
    run.add_argument("--chunk-rows", type=int, default=None)
    run.add_argument("--commit", action="store_true")
    run.add_argument("--keep", type=Path, default=None)
    book = commands.add_parser("xlsx")
    book.add_argument("csv", type=Path)
    book.add_argument("out", type=Path)
    book.add_argument("--rows", type=int, required=True)
    commands.add_parser("digest").add_argument("store", type=Path)
    pair = commands.add_parser("compare")
    pair.add_argument("first", type=Path)
    pair.add_argument("second", type=Path)
    args = parser.parse_args()
    if args.command == "check":
        print(json.dumps(check(args.file, args.store, args.chunk_rows, args.commit, args.keep)))
    elif args.command == "compare":
        print(json.dumps(compare(args.first, args.second), indent=1))
    elif args.command == "digest":
        print(json.dumps(digest(args.store), indent=1))
    else:
        write_xlsx(args.csv, args.out, args.rows)


if __name__ == "__main__":
    main()
