"""Spreadsheet exports of admin reports that a spreadsheet program opens as data, not code.

Report cells carry text that visitors typed (search queries, feedback comments) or editors
wrote (page and file titles). A cell beginning with ``=``, ``+``, ``-`` or ``@`` is run as a
formula when the CSV file is opened in Excel or LibreOffice ("CSV injection": a feedback
comment ``=HYPERLINK(…)`` would become a live link in the Redaktion's spreadsheet). Wagtail
turns formulas back into text only in its XLSX export; this mixin does the same for CSV the
way OWASP recommends, with a leading apostrophe. The CSV starts with a byte order mark and
says its charset: Excel reads a UTF-8 file without one as Windows-1252 ("GrÃ¼ÃŸe").
"""

from __future__ import annotations

# What spreadsheet programs read as the start of a formula (tab and carriage return too: a
# cell "\t=1+1" is trimmed to a formula by some of them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """``value`` with an apostrophe in front if a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class FormulaSafeExportMixin:
    """For Wagtail's ``SpreadsheetExportMixin`` views (``ReportView``): CSV cells that would
    start a formula are written as text, and the file is marked as UTF-8 for Excel."""

    def stream_csv(self, queryset):
        yield "\ufeff"
        yield from super().stream_csv(queryset)

    def write_csv_response(self, queryset):
        response = super().write_csv_response(queryset)
        response["Content-Type"] = "text/csv; charset=utf-8"
        return response

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV:
            return neutralise_formula(value)
        return value
