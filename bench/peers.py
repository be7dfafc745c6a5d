"""The peers of the benchmark: one export job written the way a Python script would write it.

    python peers.py xlsxwriter|openpyxl DSN FORM_ID FROM TO TIME_ZONE OUT.xlsx TEMP_DIR

Reads the form's columns and its records in [FROM, TO) from PostgreSQL with the export's own
query (a server-side cursor, 2,000 rows per fetch; psycopg turns the jsonb into Python values),
and writes the workbook the export writes: the three fixed columns and the form's columns, a
bold frozen header, column widths from the first rows, numbers as numbers, datetimes in the
export's time zone as Excel datetimes. XlsxWriter runs in constant_memory mode and openpyxl in
write_only mode: the modes their documentation gives for large files.
"""

import itertools
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

DATA_ROWS_PER_SHEET = 1_048_575
FIXED = [("Record ID", "integer"), ("Recorded at", "datetime"), ("Recorded by", "text")]
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

QUERY = """
    SELECT id, recorded_at, recorded_by, field_values
    FROM records
    WHERE tenant_id = %s AND form_id = %s AND recorded_at >= %s AND recorded_at < %s
    ORDER BY recorded_at, id
"""


def typed(kind, value, tz):
    """A record value as the cell it becomes, as the export types it."""
    if value is None:
        return None
    if kind == "integer" or kind == "decimal":
        return float(value)
    if kind == "datetime":
        return datetime.fromisoformat(value).astimezone(tz).replace(tzinfo=None)
    return value


def records(conn, tenant_id, form_id, start, end, kinds, tz):
    with conn.cursor(name="records") as cursor:
        cursor.itersize = 2000
        cursor.execute(QUERY, (tenant_id, form_id, start, end))
        for record_id, recorded_at, recorded_by, values in cursor:
            row = [record_id, recorded_at.astimezone(tz).replace(tzinfo=None), recorded_by]
            row.extend(typed(kind, value, tz) for kind, value in zip(kinds, values, strict=True))
            yield row


def widths(header, sample):
    def width(value):
        if isinstance(value, datetime):
            return len("yyyy-mm-dd hh:mm:ss")
        text = "" if value is None else str(value)
        return sum(2 if ord(c) >= 0x1100 else 1 for c in text[:200])

    return [
        min(max(max([width(label)] + [width(row[i]) for row in sample]) + 2, 8), 60)
        for i, label in enumerate(header)
    ]


def write_sheets(rows, header, add_sheet, write_row):
    """What both peers do alike: widths from the first 512 rows (known before the first row is
    written), a new sheet every DATA_ROWS_PER_SHEET rows (at least one), and each row written by
    `write_row(sheet, row_number, row)` on the sheet `add_sheet(number, widths)` returned."""
    sample = list(itertools.islice(rows, 512))
    col_widths = widths(header, sample)
    sheet, r, sheets = None, 0, 0
    for row in itertools.chain(sample, rows):
        if sheet is None or r > DATA_ROWS_PER_SHEET:
            sheets += 1
            sheet, r = add_sheet(sheets, col_widths), 1
        write_row(sheet, r, row)
        r += 1
    if sheet is None:
        add_sheet(1, col_widths)


def numbered(sheet_name, number):
    return sheet_name if number == 1 else f"{sheet_name} ({number})"


def write_xlsxwriter(out, temp_dir, sheet_name, header, rows):
    import xlsxwriter

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "tmpdir": temp_dir})
    bold = workbook.add_format({"bold": True})
    stamp = workbook.add_format({"num_format": DATETIME_FORMAT})

    def add_sheet(number, col_widths):
        ws = workbook.add_worksheet(numbered(sheet_name, number))
        for c, w in enumerate(col_widths):
            ws.set_column(c, c, w)
        ws.freeze_panes(1, 0)
        for c, label in enumerate(header):
            ws.write_string(0, c, label, bold)
        return ws

    def write_row(sheet, r, row):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(r, c, value, stamp)
            else:
                sheet.write_number(r, c, value)

    write_sheets(rows, header, add_sheet, write_row)
    workbook.close()


def write_openpyxl(out, sheet_name, header, rows):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def add_sheet(number, col_widths):
        ws = workbook.create_sheet(numbered(sheet_name, number))
        for c, w in enumerate(col_widths):
            ws.column_dimensions[get_column_letter(c + 1)].width = w
        ws.freeze_panes = "A2"
        cells = []
        for label in header:
            cell = WriteOnlyCell(ws, value=label)
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        return ws

    def write_row(sheet, _r, row):
        out_row = []
        for value in row:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = DATETIME_FORMAT
                out_row.append(cell)
            else:
                out_row.append(value)
        sheet.append(out_row)

    write_sheets(rows, header, add_sheet, write_row)
    workbook.save(out)


def main(argv):
    if len(argv) != 9 or argv[1] not in ("xlsxwriter", "openpyxl"):
        sys.exit(__doc__)
    writer, dsn, form_id, start, end, tz_name, out, temp_dir = argv[1:]
    tz = ZoneInfo(tz_name)
    with psycopg.connect(dsn) as conn:
        tenant_id, sheet_name = conn.execute(
            "SELECT tenant_id, name FROM forms WHERE id = %s", (int(form_id),)
        ).fetchone()
        columns = conn.execute(
            "SELECT label, kind FROM form_columns WHERE form_id = %s ORDER BY position",
            (int(form_id),),
        ).fetchall()
        header = [label for label, _ in FIXED] + [label for label, _ in columns]
        kinds = [kind for _, kind in columns]
        rows = records(conn, tenant_id, int(form_id), start, end, kinds, tz)
        if writer == "xlsxwriter":
            write_xlsxwriter(out, temp_dir, sheet_name[:31], header, rows)
        else:
            write_openpyxl(out, sheet_name[:31], header, rows)


if __name__ == "__main__":
    main(sys.argv)
