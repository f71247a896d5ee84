"""OpenDocument text and presentations (ODS goes through calamine)."""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import Element

from shareguard.extract._base import Context, TextBuilder
from shareguard.extract.ooxml import read_xml
from shareguard.model import Document

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
DC = "{http://purl.org/dc/elements/1.1/}"
META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
BLOCKS = frozenset({TEXT + "p", TEXT + "h"})
SKIP = frozenset({TEXT + "note-citation", TEXT + "tracked-changes", OFFICE + "annotation-end"})


def _inline(el: Element, out: list[str]) -> None:
    if el.text:
        out.append(el.text)
    for child in el:
        tag = child.tag
        if tag == TEXT + "s":
            out.append(" " * int(child.get(TEXT + "c", "1") or 1))
        elif tag == TEXT + "tab":
            out.append("\t")
        elif tag == TEXT + "line-break":
            out.append("\n")
        elif tag not in SKIP:
            _inline(child, out)
        if child.tail:
            out.append(child.tail)


def _paragraphs(root: Element, builder: TextBuilder, label: str) -> None:
    for el in root.iter():
        if el.tag in BLOCKS:
            out: list[str] = []
            _inline(el, out)
            builder.add("".join(out), label)


def extract_odf(data: bytes, path: str, media_type: str, ctx: Context) -> Document:
    zf = zipfile.ZipFile(io.BytesIO(data))
    builder = TextBuilder()
    meta = read_xml(zf, "meta.xml", ctx)
    if meta is not None:
        for tag, name in (
            (META + "initial-creator", "Author"),
            (DC + "creator", "Last modified by"),
        ):
            el = meta.find(f".//{tag}")
            if el is not None and el.text:
                builder.add(f"{name}: {el.text.strip()}", "properties")
    content = read_xml(zf, "content.xml", ctx)
    if content is not None:
        body = content.find(OFFICE + "body")
        _paragraphs(body if body is not None else content, builder, "body")
    styles = read_xml(zf, "styles.xml", ctx)
    if styles is not None:
        for kind in ("header", "footer"):
            for el in styles.iter(STYLE + kind):
                _paragraphs(el, builder, kind)
    text, segments = builder.build()
    return Document(path, media_type, text=text, segments=segments, size=len(data))
