"""A small document model (headings, paragraphs, field tables, bullet lists)
written as Markdown (Jinja2 template), DOCX (python-docx) or PDF (reportlab),
so the regulator's report and the deletion request are built once and come
out the same in every format."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, StrictUndefined

from shareguard.errors import InputError

FORMATS = (".md", ".docx", ".pdf")


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "heading", "para", "fields", "bullets"
    text: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    items: tuple[str, ...] = ()


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(Block("heading", text))

    def para(self, text: str) -> None:
        self.blocks.append(Block("para", text))

    def fields(self, rows: list[tuple[str, str]]) -> None:
        self.blocks.append(Block("fields", rows=tuple(rows)))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(Block("bullets", items=tuple(items)))

    def text(self) -> str:
        """Every word in the document, for tests and searches."""
        parts = [self.title]
        for b in self.blocks:
            parts += [b.text, *(f"{k}: {v}" for k, v in b.rows), *b.items]
        return "\n".join(p for p in parts if p)


_env = Environment(
    loader=PackageLoader("shareguard.breach", "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # Markdown, not HTML
    keep_trailing_newline=True,
)


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", "<br>")


_env.filters["cell"] = _md_cell


def to_markdown(doc: Document) -> str:
    return _env.get_template("document.md.j2").render(doc=doc)


def to_docx(doc: Document) -> bytes:
    import docx

    out = docx.Document()
    out.add_heading(doc.title, level=0)
    for b in doc.blocks:
        if b.kind == "heading":
            out.add_heading(b.text, level=1)
        elif b.kind == "para":
            out.add_paragraph(b.text)
        elif b.kind == "bullets":
            for item in b.items:
                out.add_paragraph(item, style="List Bullet")
        else:
            table = out.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for k, v in b.rows:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = k, v
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def to_pdf(doc: Document) -> bytes:
    from reportlab.lib import colors  # type: ignore[import-untyped]
    from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
    from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
    from reportlab.lib.units import mm  # type: ignore[import-untyped]
    from reportlab.platypus import ListFlowable, Paragraph, SimpleDocTemplate, Spacer, Table  # type: ignore[import-untyped]

    styles = getSampleStyleSheet()
    story: list[object] = [Paragraph(escape(doc.title), styles["Title"])]

    def p(text: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), styles[style])

    for b in doc.blocks:
        if b.kind == "heading":
            story.append(p(b.text, "Heading2"))
        elif b.kind == "para":
            story.append(p(b.text))
        elif b.kind == "bullets":
            story.append(ListFlowable([p(i) for i in b.items], bulletType="bullet"))
        else:
            table = Table(
                [[p(k), p(v)] for k, v in b.rows], colWidths=[55 * mm, 115 * mm], hAlign="LEFT"
            )
            table.setStyle(
                [("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
            )
            story.append(table)
        story.append(Spacer(1, 3 * mm))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=doc.title).build(story)
    return buf.getvalue()


def write(doc: Document, path: Path) -> Path:
    """Write ``doc`` in the format its file name says (.md, .docx, .pdf)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: write .md, .docx or .pdf")
    if suffix == ".md":
        data = to_markdown(doc).encode("utf-8")
    elif suffix == ".docx":
        data = to_docx(doc)
    else:
        data = to_pdf(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
