"""Importing CRM and ERP exports: read, detect, validate, load — or reject with reasons.

Rules:
- Nothing is dropped silently: every row read is either loaded or reported as rejected with
  its line, column, value and reason, so rows read = rows loaded + rows rejected.
- Nothing is guessed: a date column that could be DD/MM or MM/DD rejects the file until the
  format is given; "US$" is an unknown currency, not USD; a discount of "10" is neither 10 %
  nor 0.1 until it is written as 10 % or 0.10.
- Valid rows load in one transaction with the rollup (or daily-rate) refresh, or none do.
- Re-importing a file changes nothing: rows identical to stored ones count as loaded and
  are left alone. An order line stored with other values is rejected (orders are
  transactions: correct them at the source); master data (customers, products, reps, plans,
  prices, market data) is updated to the file's values and counted as updated.

Where each rule lives, in the order an import runs (run.import_file calls them):
- run.py         import_file: the steps in order, and what the Report then says
- kinds.py       what each kind holds: fields, types, aliases, keys, tables, templates
- reading.py     bytes -> strings: encodings, delimiter sniffing, XLSX, Parquet, ECB layout
- columns.py     header -> fields: the user's mapping, names and aliases, standard exports'
                 names (vendors.toml), missing required columns; suggestions per field
- vocabulary.toml  stage, forecast, status, activity-type and country spellings
- parsing.py     numbers and decimal marks, dates and their formats
- validation.py  row checks and their rejection reasons, duplicates, unknown references
- orders.py      order lines: prices from net values, the day's rate (EUR is 1), country,
                 channel and cost fallbacks, new master data
- crm.py         opportunities (status from stage) and activities; references created
- references.py  ids from names; the customers and reps a file brings
- changes.py     compared with the store: unchanged, conflicting, updated; snapshots
- loading.py     the one transaction with the rollups, upserts, snapshots; import_log
- undo.py        removing the order lines or rates one import added (import-undo)
- report.py      Report (what the user is told) and FileRejected
"""

from analytics.importer.columns import (
    Mapping,
    header_signature,
    map_columns,
    normalise,
    read_mapping_file,
    suggest_columns,
)
from analytics.importer.kinds import (
    KEYS,
    KINDS,
    ORDER_FIELDS,
    TABLE_COLUMNS,
    TABLES,
    Field,
    Kind,
    template_csv,
)
from analytics.importer.parsing import (
    DATE_FORMAT_NAMES,
    DATE_FORMATS,
    detect_date_format,
    detect_decimal_comma,
    parse_dates,
    parse_numbers,
)
from analytics.importer.reading import (
    DELIMITERS,
    ENCODINGS,
    MAX_XLSX_CELLS,
    MAX_XLSX_ROWS,
    MAX_XLSX_UNPACKED_BYTES,
    Detected,
    LazyRows,
    Options,
    RawTable,
    ecb_wide_to_long,
    read_file,
)
from analytics.importer.report import FileRejected, ImportAmbiguous, Report
from analytics.importer.run import import_file
from analytics.importer.undo import UndoRefused, UndoResult, undo_import
from analytics.importer.validation import SEGMENTS, known_values, validate

__all__ = [
    "DATE_FORMATS",
    "DATE_FORMAT_NAMES",
    "DELIMITERS",
    "ENCODINGS",
    "KEYS",
    "KINDS",
    "MAX_XLSX_CELLS",
    "MAX_XLSX_ROWS",
    "MAX_XLSX_UNPACKED_BYTES",
    "ORDER_FIELDS",
    "SEGMENTS",
    "TABLES",
    "TABLE_COLUMNS",
    "Detected",
    "Field",
    "FileRejected",
    "ImportAmbiguous",
    "Kind",
    "LazyRows",
    "Mapping",
    "Options",
    "RawTable",
    "Report",
    "UndoRefused",
    "UndoResult",
    "detect_date_format",
    "detect_decimal_comma",
    "ecb_wide_to_long",
    "header_signature",
    "import_file",
    "known_values",
    "map_columns",
    "normalise",
    "parse_dates",
    "parse_numbers",
    "read_file",
    "read_mapping_file",
    "suggest_columns",
    "template_csv",
    "undo_import",
    "validate",
]
