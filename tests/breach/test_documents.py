"""The letter and report writers: valid DOCX from the fast path, template
text to blocks, and the document model in every format."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.breach.documents import Block, Document, write
from shareguard.breach.fastdocx import DocxWriter
from shareguard.breach.fastpdf import letter_pdf
from shareguard.breach.letters import blocks
from shareguard.errors import InputError

WRITER = DocxWriter()
# Printable text without XML-illegal control characters.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")), min_size=1).filter(
    str.strip
)


def test_template_text_becomes_headings_paragraphs_and_bullets() -> None:
    got = blocks("Jo Bloggs\n1 Mill Lane\n\n# What happened\n\nA file.\n\n- one\n- two\n")
    assert got == [
        Block("para", "Jo Bloggs\n1 Mill Lane"),
        Block("heading", "What happened"),
        Block("para", "A file."),
        Block("bullets", items=("one", "two")),
    ]


@settings(deadline=None, max_examples=40)
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_fast_docx_is_a_valid_document_with_the_text(paragraphs: list[str]) -> None:
    data = WRITER.render([Block("heading", "Title"), *(Block("para", p) for p in paragraphs)])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert not any("stylesWithEffects" in n for n in z.namelist())
    opened = docx.Document(io.BytesIO(data))
    texts = [p.text for p in opened.paragraphs]
    assert texts[0] == "Title"
    assert opened.paragraphs[0].style.name == "Heading 1"
    assert texts[1:] == paragraphs


def test_fast_docx_escapes_markup_and_keeps_line_breaks() -> None:
    data = WRITER.render([Block("para", "A & B <c>\nline two"), Block("bullets", items=("x",))])
    paragraphs = docx.Document(io.BytesIO(data)).paragraphs
    assert paragraphs[0].text == "A & B <c>\nline two"
    assert paragraphs[1].style.name == "List Bullet"


def test_letter_pdf_flows_onto_more_pages() -> None:
    long = [Block("para", f"Paragraph {i} " + "word " * 60) for i in range(40)]
    pdf = pdfium.PdfDocument(letter_pdf("t", long))
    try:
        assert len(pdf) > 2
        text = "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()
    assert "Paragraph 0" in text
    assert "Paragraph 39" in text


@pytest.mark.parametrize("suffix", [".md", ".docx", ".pdf"])
def test_document_in_every_format(tmp_path: Path, suffix: str) -> None:
    doc = Document("Report")
    doc.heading("Facts")
    doc.fields([("People", "12"), ("Pipe | in value", "a|b")])
    doc.bullets(["first"])
    path = write(doc, tmp_path / f"out{suffix}")
    assert path.stat().st_size > 0
    if suffix == ".md":
        text = path.read_text()
        assert "| People | 12 |" in text
        assert "a\\|b" in text
        assert "- first" in text


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.md, \.docx or \.pdf"):
        write(Document("x"), tmp_path / "out.odt")
