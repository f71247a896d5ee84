"""Helpers shared by the Office Open XML and OpenDocument readers: bounded
member reads, safe XML parsing, package relationships and core properties."""

from __future__ import annotations

import posixpath
import zipfile
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

from shareguard.extract._base import Context, read_zip_member

PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MC_ALTERNATE = "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"
_PROPS = (
    ("{http://purl.org/dc/elements/1.1/}creator", "Author"),
    (
        "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy",
        "Last modified by",
    ),
    ("{http://purl.org/dc/elements/1.1/}title", "Title"),
    ("{http://purl.org/dc/elements/1.1/}subject", "Subject"),
    ("{http://purl.org/dc/elements/1.1/}description", "Description"),
    (
        "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}keywords",
        "Keywords",
    ),
)


def read_xml(zf: zipfile.ZipFile, name: str, ctx: Context) -> Element | None:
    """Parse one member, or None if it is absent.  Entity tricks are refused."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    root: Element = SafeET.fromstring(read_zip_member(zf, info, ctx))
    return root


def relationships(zf: zipfile.ZipFile, part: str, ctx: Context) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, member name) for ``part``."""
    folder, base = posixpath.split(part)
    root = read_xml(zf, posixpath.join(folder, "_rels", base + ".rels"), ctx)
    out: dict[str, tuple[str, str]] = {}
    if root is None:
        return out
    for rel in root.iter(PKG_REL + "Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        full = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(full))
    return out


def core_properties(zf: zipfile.ZipFile, ctx: Context) -> str:
    """Author and similar document properties, one ``Name: value`` per line."""
    root = read_xml(zf, "docProps/core.xml", ctx)
    if root is None:
        return ""
    lines = []
    for tag, label in _PROPS:
        el = root.find(tag)
        if el is not None and el.text and el.text.strip():
            lines.append(f"{label}: {el.text.strip()}")
    return "\n".join(lines)


def first_alternative(el: Element) -> list[Element]:
    """Of an mc:AlternateContent, only the first choice: the fallback repeats it."""
    return list(el)[:1]
