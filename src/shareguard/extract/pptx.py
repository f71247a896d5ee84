"""PowerPoint .pptx: slide text (shapes, groups, tables) and speaker notes."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree.ElementTree import Element

from shareguard.extract._base import Context, TextBuilder
from shareguard.extract.ooxml import (
    MC_ALTERNATE,
    REL,
    core_properties,
    first_alternative,
    read_xml,
    relationships,
)
from shareguard.model import Document, Table

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
PML = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
NOTES_REL = "/notesSlide"
_SLIDE_NO = re.compile(r"slide(\d+)\.xml$")


def _para(p: Element) -> str:
    out: list[str] = []
    for el in p.iter():
        if el.tag == A + "t":
            out.append(el.text or "")
        elif el.tag == A + "br":
            out.append("\n")
    return "".join(out)


def _walk(el: Element, lines: list[str], tables: list[list[list[str]]]) -> None:
    for child in el:
        if child.tag == A + "p":
            lines.append(_para(child))
        elif child.tag == A + "tbl":
            tables.append(
                [
                    ["\n".join(_para(p) for p in tc.iter(A + "p")) for tc in tr.findall(A + "tc")]
                    for tr in child.findall(A + "tr")
                ]
            )
        elif child.tag == MC_ALTERNATE:
            for alt in first_alternative(child):
                _walk(alt, lines, tables)
        else:
            _walk(child, lines, tables)


def _slide_order(zf: zipfile.ZipFile, ctx: Context) -> list[str]:
    pres = read_xml(zf, "ppt/presentation.xml", ctx)
    rels = relationships(zf, "ppt/presentation.xml", ctx)
    order: list[str] = []
    if pres is not None:
        for sld in pres.iter(PML + "sldId"):
            target = rels.get(sld.get(REL + "id", ""))
            if target and target[1] in zf.NameToInfo:
                order.append(target[1])
    if order:
        return order
    found = [(int(m.group(1)), n) for n in zf.namelist() if (m := _SLIDE_NO.search(n))]
    return [n for _, n in sorted(found) if n.startswith("ppt/slides/")]


def extract_pptx(data: bytes, path: str, media_type: str, ctx: Context) -> Document:
    zf = zipfile.ZipFile(io.BytesIO(data))
    builder = TextBuilder()
    tables: list[Table] = []
    builder.add(core_properties(zf, ctx), "properties")
    deadline = ctx.deadline()
    for number, slide_name in enumerate(_slide_order(zf, ctx), start=1):
        deadline.check()
        slide = read_xml(zf, slide_name, ctx)
        if slide is None:
            continue
        lines: list[str] = []
        grids: list[list[list[str]]] = []
        _walk(slide, lines, grids)
        builder.add("\n".join(ln for ln in lines if ln), f"slide {number}")
        for grid in grids:
            tables.append(Table.from_rows(f"slide {number} table {len(tables) + 1}", grid))
        for rel_type, target in relationships(zf, slide_name, ctx).values():
            if rel_type.endswith(NOTES_REL):
                notes = read_xml(zf, target, ctx)
                if notes is not None:
                    note_lines: list[str] = []
                    _walk(notes, note_lines, grids)
                    builder.add("\n".join(ln for ln in note_lines if ln), f"slide {number} notes")
    text, segments = builder.build()
    return Document(
        path, media_type, text=text, segments=segments, tables=tuple(tables), size=len(data)
    )
