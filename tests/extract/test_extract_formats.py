"""Each format yields the right text, segments, tables and paths."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from extract_builders import (
    add_members,
    build_doc,
    build_docx,
    build_eml,
    build_msg,
    build_odf,
    build_pdf,
    build_pptx,
    build_xlsx,
    build_zip,
)

from shareguard.config import Limits
from shareguard.extract import extract_bytes, extract_path
from shareguard.model import Document

LIMITS = Limits()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def run(data: bytes, name: str = "f", limits: Limits = LIMITS) -> Document:
    return extract_bytes(data, name, limits)


def labels(doc: Document) -> list[str]:
    return [s.label for s in doc.segments]


def segment_text(doc: Document, label: str) -> str:
    return "\n".join(doc.text[s.start : s.end] for s in doc.segments if s.label == label)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Dear Ada,\nyour appointment is on Monday.", "Dear Ada"),
        (
            "Caf\u00e9 for Zo\u00eb, \u00a3 5 and \u201cquotes\u201d here.".encode("cp1252"),
            "Zo\u00eb",
        ),
        ("\ufeffZo\u00eb Test lives here.".encode("utf-16-le"), "Zo\u00eb Test"),
        ("Plain UTF-16 text without a BOM.".encode("utf-16-le"), "without a BOM"),
    ],
)
def test_text_encodings(data: bytes, expected: str) -> None:
    doc = run(data)
    assert doc.media_type == "text/plain"
    assert expected in doc.text
    assert doc.uninspectable is None
    assert labels(doc) == ["body"]


def test_html_drops_script_and_style() -> None:
    html = b"<html><head><style>p{}</style></head><body><p>Ada Test</p><script>var x='QQ'</script></body></html>"  # noqa: E501
    doc = run(html)
    assert doc.media_type == "text/html"
    assert doc.text == "Ada Test"


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_csv_delimiters(delim: str) -> None:
    rows = [
        ["name", "nino", "note"],
        ["Ada Test", "QQ123456C", f"has {delim} inside"],
        ["Bo", "x", ""],
    ]
    text = "\n".join(delim.join(f'"{c}"' if delim in c else c for c in r) for r in rows)
    doc = run(text.encode())
    assert doc.media_type == ("text/tab-separated-values" if delim == "\t" else "text/csv")
    (table,) = doc.tables
    assert [list(r) for r in table.iter_rows()] == rows
    assert list(table.iter_rows()) == list(table.iter_rows())  # re-iterable
    assert table.first_row == 1
    assert doc.text == ""


def test_csv_quoted_newline_and_prose_is_not_csv() -> None:
    doc = run(b'id,comment\n1,"two\nlines"\n2,plain\n')
    assert [list(r) for r in doc.tables[0].iter_rows()][1] == ["1", "two\nlines"]
    prose = b"Dear Ada, thank you for your letter.\nWe met on Monday and talked for an hour about the plans.\nRegards\n"  # noqa: E501
    assert run(prose).media_type == "text/plain"


def test_csv_streamed_from_path(tmp_path: Path) -> None:
    path = tmp_path / "people.dat"
    path.write_text("a;b\n1;2\n3;4\n", encoding="utf-8")
    doc = extract_path(path, LIMITS, name="people.dat")
    assert doc.path == "people.dat"
    assert doc.media_type == "text/csv"
    assert [list(r) for r in doc.tables[0].iter_rows()] == [["a", "b"], ["1", "2"], ["3", "4"]]
    path.write_text("a;b\n9;9\n", encoding="utf-8")  # re-read from disk each time
    assert [list(r) for r in doc.tables[0].iter_rows()][1] == ["9", "9"]


def test_extract_path_propagates_os_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        extract_path(tmp_path / "missing.csv", LIMITS)


def test_xlsx_sheets_cells_and_hidden() -> None:
    doc = run(build_xlsx(), "staff.bin")
    assert doc.media_type == XLSX
    staff, secret = doc.tables
    assert (staff.name, staff.first_row, staff.hidden) == ("Staff", 3, False)
    rows = [list(r) for r in staff.iter_rows()]
    assert rows[0][:3] == ["", "Name", "Staff no"]  # column B stays column B
    assert rows[1] == ["", "Ada Lovelace-Test", "1042", "1985-12-10", "09:30", "0.5", "TRUE"]
    assert (secret.name, secret.hidden) == ("Secret", True)
    assert [list(r) for r in secret.iter_rows()] == [["QQ123456C"]]


def test_xlsm_by_content() -> None:
    data = add_members(build_xlsx(), {"xl/vbaProject.bin": b"\0" * 10})
    assert run(data).media_type == "application/vnd.ms-excel.sheet.macroEnabled.12"


def test_xlsx_cell_limit_is_never_silently_partial() -> None:
    doc = run(build_xlsx(), limits=Limits(max_cells_per_sheet=7))
    assert doc.uninspectable is not None
    assert "Staff" in doc.uninspectable
    assert len(list(doc.tables[0].iter_rows())) == 1


def test_docx_parts_and_labels() -> None:
    doc = run(build_docx(), "letter")
    assert labels(doc) == [
        "properties",
        "body",
        "header",
        "footer",
        "comment",
        "footnote",
        "textbox",
    ]
    assert segment_text(doc, "body") == "First paragraph about Ada Lovelace-Test.\nLast paragraph."
    assert "Header text" in segment_text(doc, "header")
    assert "Grace Hopper-Test" in segment_text(doc, "comment")
    assert "Mary Seacole-Test" in segment_text(doc, "footnote")
    assert "Alan Turing-Test" in segment_text(doc, "textbox")
    (table,) = doc.tables
    assert table.name == "table 1"
    assert [list(r) for r in table.iter_rows()][1] == ["Ada Lovelace-Test", "943 476 5919"]
    assert "943 476 5919" not in doc.text  # table text is not duplicated


def test_pptx_slides_notes_tables() -> None:
    doc = run(build_pptx())
    assert "Grouped Ada-Test" in segment_text(doc, "slide 1")
    assert "Quarterly review" in segment_text(doc, "slide 1")
    assert "Grace-Test" in segment_text(doc, "slide 1 notes")
    (table,) = doc.tables
    assert [list(r) for r in table.iter_rows()][1] == ["Alan-Test", "07700 900123"]


def test_odt_body_and_header() -> None:
    body = '<office:text><text:h>Title</text:h><text:p>Ada<text:s text:c="2"/>Test<text:tab/>x</text:p></office:text>'  # noqa: E501
    styles = "<style:master-page><style:header><text:p>Head Grace-Test</text:p></style:header></style:master-page>"  # noqa: E501
    doc = run(build_odf("text", body, styles))
    assert doc.media_type == "application/vnd.oasis.opendocument.text"
    assert segment_text(doc, "body") == "Title\nAda  Test\tx"
    assert segment_text(doc, "header") == "Head Grace-Test"


def test_ods_through_calamine() -> None:
    body = (
        '<office:spreadsheet><table:table table:name="People"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>Ada Test</text:p></table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="42"><text:p>42</text:p></table:table-cell>'  # noqa: E501
        "</table:table-row></table:table></office:spreadsheet>"
    )
    doc = run(build_odf("spreadsheet", body))
    assert doc.media_type == "application/vnd.oasis.opendocument.spreadsheet"
    assert doc.uninspectable is None
    assert [list(r) for r in doc.tables[0].iter_rows()] == [["Ada Test", "42"]]


def test_pdf_pages() -> None:
    doc = run(build_pdf(["Ada Test page one", "second page"]))
    assert doc.media_type == "application/pdf"
    assert [(s.label, s.page) for s in doc.segments] == [("page 1", 1), ("page 2", 2)]
    assert doc.page_at(doc.text.index("second")) == 2
    limited = run(build_pdf(["a", "b", "c"]), limits=Limits(max_pages=2))
    assert limited.uninspectable == "only the first 2 of 3 pages were inspected"
    assert len(limited.segments) == 2


def test_eml_headers_bodies_and_nested_paths() -> None:
    inner_zip = build_zip({"deep/inner.zip": build_zip({"staff.xlsx": build_xlsx()})})
    attached = build_eml(plain="Forwarded body", attachments={"bundle.zip": inner_zip})
    msg = build_eml(html="<p>Hello Ada</p><script>x</script>", attached_message=attached)
    doc = run(msg.as_bytes(), "mail.eml")
    assert doc.media_type == "message/rfc822"
    headers = segment_text(doc, "headers")
    assert "From: Grace Hopper-Test <grace.test@example.org>" in headers
    assert "Cc: ops.test@example.com" in headers
    assert "Subject: Referral list" in headers
    assert doc.text.count("NHS number") == 1  # the HTML twin is not counted again
    paths = [d.path for d in doc.walk()]
    assert "mail.eml!part 1.eml!bundle.zip!deep/inner.zip!staff.xlsx" in paths
    xlsx = next(d for d in doc.walk() if d.path.endswith("staff.xlsx"))
    assert xlsx.media_type == XLSX
    assert xlsx.tables


def test_eml_html_only_and_inline_image() -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["Subject"] = "pic"
    msg.set_content("<p>See <b>Ada</b></p><style>x{}</style>", subtype="html")
    png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 30
    msg.add_related(png, maintype="image", subtype="png", cid="<img1>", filename="face.png")
    doc = run(msg.as_bytes(), "m.eml")
    assert "See Ada" in doc.text
    assert "x{}" not in doc.text
    assert any("face.png" in n for n in doc.notes)
    (image,) = doc.parts
    assert image.path == "m.eml!face.png"
    assert image.uninspectable == "image: no text layer; it may show personal data"


def test_msg_outlook() -> None:
    doc = run(build_msg(("list.csv", b"name,nhs\nAda,9434765919\n")), "x.msg")
    assert doc.media_type == "application/vnd.ms-outlook"
    headers = segment_text(doc, "headers")
    assert "From: Grace Hopper-Test <grace.test@example.org>" in headers
    assert "To: Alan Turing-Test <alan.test@example.net>" in headers
    assert "Subject: Referral for Ada Lovelace-Test" in headers
    assert "QQ 12 34 56 C" in segment_text(doc, "body")
    (part,) = doc.parts
    assert part.path == "x.msg!list.csv"
    assert part.media_type == "text/csv"


def test_legacy_doc_text() -> None:
    doc = run(build_doc("Ada Lovelace-Test\rsecond paragraph"))
    assert doc.media_type == "application/msword"
    assert doc.text == "Ada Lovelace-Test\nsecond paragraph"


def test_zip_tar_gzip_paths() -> None:
    data = build_zip({"dir/a.txt": b"hello Ada", "dir/": b""})
    doc = run(data, "bundle.zip")
    assert [p.path for p in doc.parts] == ["bundle.zip!dir/a.txt"]
    assert doc.parts[0].text == "hello Ada"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("x/b.txt")
        info.size = 9
        tf.addfile(info, io.BytesIO(b"hello Bob"))
    tgz = gzip.compress(buf.getvalue())
    doc = run(tgz, "t.tar.gz")
    assert [d.path for d in doc.walk()] == ["t.tar.gz", "t.tar.gz!t.tar", "t.tar.gz!t.tar!x/b.txt"]
    assert doc.parts[0].parts[0].text == "hello Bob"


def test_unsupported_archive_and_binary() -> None:
    assert run(b"7z\xbc\xaf\x27\x1c" + b"\0" * 50).uninspectable == "unsupported archive format"
    png = run(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    assert png.media_type == "image/png"
    assert png.uninspectable == "image: no text layer; it may show personal data"
    blob = run(bytes(range(256)) * 4)
    assert blob.uninspectable is not None
    assert "binary" in blob.uninspectable


def _xls_bytes() -> bytes:
    import datetime

    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Staff")
    for col, label in enumerate(["Name", "Staff no", "Born"]):
        sheet.write(0, col, label)
    sheet.write(1, 0, "Ada Lovelace-Test")
    sheet.write(1, 1, 1042)
    sheet.write(1, 2, datetime.date(1985, 12, 10), xlwt.easyxf(num_format_str="DD/MM/YYYY"))
    hidden = book.add_sheet("Old")
    hidden.write(0, 0, "QQ123456C")
    hidden.visibility = 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_legacy_xls_by_content() -> None:
    doc = run(_xls_bytes(), "staff.dat")
    assert doc.media_type == "application/vnd.ms-excel"
    assert doc.uninspectable is None
    staff = doc.tables[0]
    rows = [list(r) for r in staff.iter_rows()]
    assert rows[0] == ["Name", "Staff no", "Born"]
    assert rows[1] == ["Ada Lovelace-Test", "1042", "1985-12-10"]
    assert [t.name for t in doc.tables] == ["Staff", "Old"]
