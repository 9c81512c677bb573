"""Native chart data for the deck whose embedded workbook keeps names from the data as text."""

from __future__ import annotations

from contextlib import contextmanager

from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from xlsxwriter import Workbook


class _TextWorkbookWriter(CategoryWorkbookWriter):
    """python-pptx's chart workbook writer with XlsxWriter told to keep text as text: by
    default it writes a category such as =HYPERLINK(...) as a live formula and an address
    as a link in the workbook behind a native chart (PowerPoint's "Edit Data")."""

    @contextmanager
    def _open_worksheet(self, xlsx_file):
        workbook = Workbook(
            xlsx_file,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class TextChartData(CategoryChartData):
    """CategoryChartData whose embedded workbook holds names as text, never as formulas or
    links; the chart shows them exactly as written."""

    @property
    def _workbook_writer(self):
        return _TextWorkbookWriter(self)
