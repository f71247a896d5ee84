"""Word .docx: body in order, tables, headers, footers, comments, notes, text boxes."""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import Element

from shareguard.extract._base import Context, TextBuilder
from shareguard.extract.ooxml import MC_ALTERNATE, core_properties, first_alternative, read_xml
from shareguard.model import Document, Table

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
P, TBL, TR, TC = W + "p", W + "tbl", W + "tr", W + "tc"
TEXT = frozenset({W + "t", W + "delText"})
BREAKS = frozenset({W + "br", W + "cr"})
TXBX = W + "txbxContent"
BODY = W + "body"


class _Walker:
    def __init__(self) -> None:
        self.boxes: list[Element] = []

    def para(self, el: Element) -> str:
        out: list[str] = []
        self._inline(el, out)
        return "".join(out)

    def _inline(self, el: Element, out: list[str]) -> None:
        for child in el:
            tag = child.tag
            if tag in TEXT:
                out.append(child.text or "")
            elif tag == W + "tab":
                out.append("\t")
            elif tag in BREAKS:
                out.append("\n")
            elif tag == TXBX:
                self.boxes.append(child)
            elif tag == MC_ALTERNATE:
                for alt in first_alternative(child):
                    self._inline(alt, out)
            else:
                self._inline(child, out)

    def blocks(
        self, el: Element, builder: TextBuilder, label: str, tables: list[Table] | None
    ) -> None:
        for child in el:
            tag = child.tag
            if tag == P:
                builder.add(self.para(child), label)
            elif tag == TBL:
                rows = self.table_rows(child)
                if tables is None:
                    builder.add("\n".join("\t".join(r) for r in rows), label)
                elif rows:
                    tables.append(Table.from_rows(f"table {len(tables) + 1}", rows))
            elif tag == MC_ALTERNATE:
                for alt in first_alternative(child):
                    self.blocks(alt, builder, label, tables)
            else:
                self.blocks(child, builder, label, tables)

    def table_rows(self, tbl: Element) -> list[list[str]]:
        rows = []
        for tr in tbl.findall(TR):
            cells = [
                "\n".join(t for p in tc.iter(P) if (t := self.para(p))) for tc in tr.findall(TC)
            ]
            rows.append(cells)
        return rows


def extract_docx(data: bytes, path: str, media_type: str, ctx: Context) -> Document:
    zf = zipfile.ZipFile(io.BytesIO(data))
    walker = _Walker()
    builder = TextBuilder()
    tables: list[Table] = []
    builder.add(core_properties(zf, ctx), "properties")
    root = read_xml(zf, "word/document.xml", ctx)
    if root is not None and (body := root.find(BODY)) is not None:
        walker.blocks(body, builder, "body", tables)
    names = sorted(zf.namelist())
    for prefix, label in (("word/header", "header"), ("word/footer", "footer")):
        for name in names:
            if name.startswith(prefix) and name.endswith(".xml"):
                part = read_xml(zf, name, ctx)
                if part is not None:
                    walker.blocks(part, builder, label, None)
    _notes(zf, ctx, walker, builder)
    while walker.boxes:
        box = walker.boxes.pop(0)
        walker.blocks(box, builder, "textbox", None)
    text, segments = builder.build()
    return Document(
        path, media_type, text=text, segments=segments, tables=tuple(tables), size=len(data)
    )


def _notes(zf: zipfile.ZipFile, ctx: Context, walker: _Walker, builder: TextBuilder) -> None:
    comments = read_xml(zf, "word/comments.xml", ctx)
    if comments is not None:
        for c in comments.iter(W + "comment"):
            author = c.get(W + "author")
            sub = TextBuilder()
            walker.blocks(c, sub, "comment", None)
            body, _ = sub.build()
            builder.add(f"{author}: {body}" if author else body, "comment")
    for member, tag, label in (
        ("word/footnotes.xml", "footnote", "footnote"),
        ("word/endnotes.xml", "endnote", "endnote"),
    ):
        root = read_xml(zf, member, ctx)
        if root is None:
            continue
        for note in root.iter(W + tag):
            if note.get(W + "type") in ("separator", "continuationSeparator"):
                continue
            walker.blocks(note, builder, label, None)
