"""Redaction round trips: the output is in the input's format, keeps
everything else, and holds none of the seeded values."""

from __future__ import annotations

import io
import random
import re
import zipfile

import docx
import pytest
import python_calamine as pc
from docx.shared import Pt
from staff_fixtures import nino, staff_list

from shareguard.config import get_settings
from shareguard.errors import InputError
from shareguard.transform import MinimiseOptions, minimise_bytes

PEOPLE = [
    ("Grace Okafor", "AB 12 34 56 C", "grace.okafor@example.org"),
    ("Tomasz Nowak", "CE 98 76 54 A", "tomasz.nowak@example.org"),
    ("Priya Shah", "JG 10 32 54 D", "priya.shah@example.org"),
]


def _redact(data: bytes, name: str):  # type: ignore[no-untyped-def]
    return minimise_bytes(data, name, "redact", MinimiseOptions(), get_settings())


def _seeded(staff_rows: list[list[str]], columns: tuple[int, ...]) -> set[str]:
    return {r[i] for r in staff_rows for i in columns}


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_csv_redacted_keeps_shape_and_delimiter(delimiter: str) -> None:
    staff = staff_list(60, seed=11)
    result = _redact(staff.csv_bytes(delimiter), "staff.csv")
    text = result.content.decode()
    lines = text.splitlines()
    assert lines[0] == delimiter.join(staff.header)
    assert len(lines) == 61
    for value in _seeded(staff.rows, (0, 1, 2, 9)):  # name, DOB, NINO, e-mail
        assert value not in text
    first = lines[1].split(delimiter)
    assert first[:3] == ["[PERSON]", "[DATE_OF_BIRTH]", "[UK_NINO]"]
    assert first[3:6] == staff.rows[0][3:6]  # grade, department, salary untouched
    assert first[9] == "[EMAIL_ADDRESS]"
    assert result.media_type.startswith("text/")
    assert result.filename == "staff-redacted.csv"
    assert not result.remaining["direct_identifiers"]


def test_xlsx_redacted_in_place_with_other_sheets_and_cells_kept() -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    staff = staff_list(40, seed=12)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Staff"
    ws.append(list(staff.header))
    for r in staff.rows:
        ws.append(r)
    ws["A1"].font = Font(bold=True)
    notes = wb.create_sheet("Notes")
    notes.append(["Prepared for the TUPE consultation"])
    notes.append([f"Queries to {PEOPLE[0][2]} please"])
    buf = io.BytesIO()
    wb.save(buf)

    result = _redact(buf.getvalue(), "staff.xlsx")
    book = pc.CalamineWorkbook.from_filelike(io.BytesIO(result.content))
    assert book.sheet_names == ["Staff", "Notes"]
    cells = [
        str(v) for n in book.sheet_names for r in book.get_sheet_by_name(n).to_python() for v in r
    ]
    joined = "\n".join(cells)
    for value in _seeded(staff.rows, (0, 2, 9)) | {PEOPLE[0][2]}:
        assert value not in joined
    rows = book.get_sheet_by_name("Staff").to_python()
    assert rows[0] == list(staff.header)
    assert rows[1][3] == staff.rows[0][3]
    assert book.get_sheet_by_name("Notes").to_python()[0] == ["Prepared for the TUPE consultation"]
    assert book.get_sheet_by_name("Notes").to_python()[1] == ["Queries to [EMAIL_ADDRESS] please"]
    from openpyxl import load_workbook

    again = load_workbook(io.BytesIO(result.content))
    assert again["Staff"]["A1"].font.bold  # formatting kept
    assert not result.remaining["direct_identifiers"]


def _docx() -> bytes:
    d = docx.Document()
    d.core_properties.author = "Grace Okafor"
    d.add_heading("Transfer of staff", level=1)
    p = d.add_paragraph("Dear colleague, ")
    name, ni, mail = PEOPLE[1]
    p.add_run(name.split()[0] + " ")
    bold = p.add_run(name.split()[1])  # the name spans two runs, one bold
    bold.bold = True
    p.add_run(f" (NI number {ni}) can be reached at {mail}.")
    note = d.add_paragraph("The contract starts in April.")
    d.add_comment(note.runs, text=f"Check with {PEOPLE[0][2]} first", author="HR")
    d.core_properties.title = f"Transfer letter for {PEOPLE[1][0]}"
    table = d.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Name", "NI number", "Email"), strict=True):
        cell.text = text
    for person in PEOPLE:
        row = table.add_row()
        for cell, text in zip(row.cells, person, strict=True):
            cell.text = text
    section = d.sections[0]
    section.header.paragraphs[0].text = f"Prepared by {PEOPLE[2][0]}, {PEOPLE[2][2]}"
    run = d.add_paragraph().add_run("Signed off by the HR manager.")
    run.font.size = Pt(9)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xml"))
    return re.sub(r"<[^>]+>", "", xml)


def test_docx_redacted_keeps_runs_and_other_text() -> None:
    result = _redact(_docx(), "letter.docx")
    text = _docx_text(result.content)
    for person in PEOPLE:
        for value in person:
            assert value not in text, value
    assert "Grace Okafor" not in text  # the author property too
    out = docx.Document(io.BytesIO(result.content))
    paragraphs = [p.text for p in out.paragraphs]
    assert "The contract starts in April." in paragraphs
    assert "Transfer of staff" in paragraphs
    letter = next(p for p in out.paragraphs if p.text.startswith("Dear colleague"))
    assert "[UK_NINO]" in letter.text
    assert "[EMAIL_ADDRESS]" in letter.text
    assert "[PERSON]" in letter.text
    assert out.paragraphs[-1].runs[0].font.size == Pt(9)  # formatting kept
    assert out.tables[0].rows[1].cells[1].text == "[UK_NINO]"
    assert not result.remaining["direct_identifiers"]


def test_text_redacted_everywhere_a_value_occurs() -> None:
    rng = random.Random(4)
    numbers = [nino(rng) for _ in range(5)]
    body = "Payroll query\n\n" + "".join(
        f"Employee {i}: NI number {n}, salary confirmed. Again: {n}.\n"
        for i, n in enumerate(numbers)
    )
    body += f"Contact {PEOPLE[0][2]} or call 07700 900123.\n"
    result = _redact(body.encode("utf-8"), "note.txt")
    text = result.content.decode("utf-8")
    for n in numbers:
        assert n not in text
    assert PEOPLE[0][2] not in text
    assert text.count("[UK_NINO]") == 10
    assert text.startswith("Payroll query\n\n")
    assert result.media_type == "text/plain"


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    name, ni, mail = PEOPLE[0]
    c.drawString(72, 720, "Staff transfer: personal file")
    c.drawString(72, 700, f"Employee {name}, NI number {ni}")
    c.drawString(72, 680, f"E-mail {mail}")
    c.drawString(72, 660, "The contract starts in April.")
    c.showPage()
    c.drawString(72, 720, f"Page two repeats {ni}.")
    c.save()
    return buf.getvalue()


def _dark_share(data: bytes, box: tuple[float, float, float, float]) -> float:
    """Share of near-black pixels inside ``box`` (PDF points) on page one."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    page = pdf[0]
    height = page.get_size()[1]
    image = page.render(scale=2).to_pil().convert("L")
    left, bottom, right, top = box
    crop = image.crop(
        (int(left * 2), int((height - top) * 2), int(right * 2), int((height - bottom) * 2))
    )
    pixels = crop.tobytes()  # one byte per pixel in mode L
    return sum(1 for p in pixels if p < 40) / max(len(pixels), 1)


def test_pdf_redacted_as_image_with_a_redacted_text_layer() -> None:
    import pypdfium2 as pdfium

    source = _pdf()
    result = _redact(source, "file.pdf")
    assert result.media_type == "application/pdf"
    assert result.filename == "file-redacted.pdf"
    pdf = pdfium.PdfDocument(result.content)
    assert len(pdf) == 2
    text = "\n".join(p.get_textpage().get_text_range() for p in pdf)
    for value in PEOPLE[0]:
        assert value not in text
    assert "[UK_NINO]" in text
    assert "The contract starts in April." in text
    assert "Page two repeats [UK_NINO]." in text
    assert not result.remaining["direct_identifiers"]
    assert not result.remaining["uninspectable"]
    # the NI number's place on the page is black now, and was not before
    original = pdfium.PdfDocument(source)[0].get_textpage()
    line = original.get_text_range()
    at = line.index(PEOPLE[0][1])
    boxes = [original.get_charbox(i) for i in range(at, at + len(PEOPLE[0][1])) if line[i] != " "]
    span = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    assert _dark_share(source, span) < 0.3
    assert _dark_share(result.content, span) > 0.9
    # the untouched line is still drawn as it was
    start = line.index("The contract")
    boxes = [original.get_charbox(i) for i in range(start, start + 12) if line[i] != " "]
    plain = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    assert 0.02 < _dark_share(result.content, plain) < 0.6


def test_scanned_pdf_without_text_is_refused() -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(Image.new("L", (200, 100), 128)), 72, 600, 200, 100)
    c.save()
    with pytest.raises(InputError, match="cannot be read"):
        _redact(buf.getvalue(), "scan.pdf")
