"""Redact: every detected value replaced by its type tag (``[UK_NINO]``), in the
format the file came in, with everything else left as it was.

The scanner finds the values (in memory, revealed only to this module, never
logged); tables are also redacted column by column where the classifier says a
whole column holds identifiers, so a value the per-cell check missed in an NI
number column goes too.  Prose is redacted by value wherever it occurs, so a
name found once is removed everywhere in the document.  A PDF is redrawn as
page images with the values blacked out (``redact_pdf``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from shareguard.config import Settings
from shareguard.detect.columns import classify_columns
from shareguard.detect.scanner import Scanner
from shareguard.errors import InputError
from shareguard.extract.text import decode, detect_encoding
from shareguard.model import Document, FileReport, Table
from shareguard.pipeline import make_scanner
from shareguard.transform import io as tio
from shareguard.transform.redact_pdf import redact_pdf


def tag(kind: str) -> str:
    return f"[{kind.upper()}]"


def revealing_scanner(settings: Settings) -> Scanner:
    """A scanner that keeps raw values on its findings, for this process only,
    and lists every finding (the default list is capped for reports)."""
    return replace(make_scanner(settings, reveal=True), max_findings=10**9)


@dataclass(slots=True)
class Found:
    """What to redact: values anywhere in prose, and cells of tables
    (sheet -> row -> column label -> [(value, type, whole cell)])."""

    values: dict[str, str] = field(default_factory=dict)
    cells: dict[str, dict[int, dict[str, list[tuple[str, str, bool]]]]] = field(
        default_factory=dict
    )

    @classmethod
    def of(cls, report: FileReport) -> Found:
        found = cls()
        for part in report.walk():
            for f in part.findings:
                value = f.revealed
                if not value or not value.strip():
                    continue
                loc = f.location
                if loc.sheet is not None and loc.row is not None and loc.column is not None:
                    whole = loc.start is None
                    rows = found.cells.setdefault(loc.sheet, {})
                    rows.setdefault(loc.row, {}).setdefault(loc.column, []).append(
                        (value, f.type, whole)
                    )
                found.values.setdefault(value, f.type)
        return found

    def pattern(self) -> re.Pattern[str] | None:
        if not self.values:
            return None
        alternatives = sorted(self.values, key=len, reverse=True)
        return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in alternatives) + r")(?!\w)")


def redact_text(text: str, found: Found, pattern: re.Pattern[str] | None) -> tuple[str, int]:
    if pattern is None:
        return text, 0
    return pattern.subn(lambda m: tag(found.values[m.group()]), text)


# --------------------------------------------------------------------------- tables


def _column_tags(rows: list[list[str]]) -> tuple[bool, dict[int, str]]:
    """(has header, tag per column whose every value is to go)."""
    plan = classify_columns(rows)
    tags: dict[int, str] = {}
    for c in plan.columns:
        if c.entity is not None:
            tags[c.index] = tag(c.entity)
        elif c.name_part in ("given", "family", "full"):
            tags[c.index] = tag("PERSON")
        elif c.special is not None:
            tags[c.index] = tag(c.special)
    return plan.has_header, tags


def _redact_cell(value: str, hits: list[tuple[str, str, bool]]) -> str:
    for found, kind, whole in sorted(hits, key=lambda h: -len(h[0])):
        if whole or value.strip() == found.strip():
            return tag(kind)
        value = re.sub(r"(?<!\w)" + re.escape(found) + r"(?!\w)", tag(kind), value)
    return value


def redacted_cells(table: Table, found: Found) -> Iterator[tuple[int, int, str, str]]:
    """(source row, column index, old text, new text) for each changed cell."""
    rows = [list(r) for r in table.iter_rows()]
    if not rows:
        return
    has_header, tags = _column_tags(rows)
    sheet_hits = found.cells.get(table.name, {})
    header = [h.strip() for h in rows[0]] if has_header else []
    for i, row in enumerate(rows):
        row_no = table.first_row + i
        if has_header and i == 0:
            continue
        hits = sheet_hits.get(row_no, {})
        for j, cell in enumerate(row):
            if not cell.strip():
                continue
            label = header[j] if j < len(header) and header[j] else f"column {j + 1}"
            if j in tags:
                new = tags[j]
            elif label in hits:
                new = _redact_cell(cell, hits[label])
            else:
                continue
            if new != cell:
                yield row_no, j, cell, new


def redact_csv(data: bytes, doc: Document, found: Found) -> tuple[bytes, int]:
    table = doc.tables[0]
    rows = [list(r) for r in table.iter_rows()]
    changed = 0
    for row_no, j, _, new in redacted_cells(table, found):
        rows[row_no - table.first_row][j] = new
        changed += 1
    return tio.write_csv(rows, tio.delimiter_of(data)), changed


def redact_xlsx(data: bytes, doc: Document, found: Found) -> tuple[bytes, int]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), keep_vba=doc.media_type == tio.XLSM)
    changed = 0
    for table in doc.tables:
        ws = wb[table.name]
        for row_no, j, _, new in redacted_cells(table, found):
            ws.cell(row=row_no, column=j + 1).value = new
            changed += 1
    wb.properties.creator = None
    wb.properties.lastModifiedBy = None
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), changed


# --------------------------------------------------------------------------- documents


def _paragraphs(document: object) -> Iterator[object]:
    """Every paragraph element of every parsed XML part of the document: the
    body with its tables, headers, footers, comments.  Parts python-docx keeps
    as raw bytes (footnotes, endnotes) are not reached; the re-scan reports
    anything left in them."""
    from docx.oxml.ns import qn

    for part in document.part.package.iter_parts():  # type: ignore[attr-defined]
        element = getattr(part, "_element", None)
        if element is not None and str(part.partname).startswith("/word/"):
            yield from element.iter(qn("w:p"))


def _redact_paragraph(p: object, found: Found, pattern: re.Pattern[str]) -> int:
    """Replace matches across the paragraph's text nodes: the tag goes where a
    match starts, the rest of the match is taken out of whichever runs held
    it, so run formatting stays as it was."""
    from docx.oxml.ns import qn

    nodes = list(p.iter(qn("w:t")))  # type: ignore[attr-defined]
    texts = [n.text or "" for n in nodes]
    full = "".join(texts)
    matches = list(pattern.finditer(full))
    if not matches:
        return 0
    owner = [k for k, t in enumerate(texts) for _ in t]
    new = [""] * len(nodes)
    pos = 0
    for m in matches:
        for i in range(pos, m.start()):
            new[owner[i]] += full[i]
        new[owner[m.start()]] += tag(found.values[m.group()])
        pos = m.end()
    for i in range(pos, len(full)):
        new[owner[i]] += full[i]
    for node, text in zip(nodes, new, strict=True):
        node.text = text
        if text != text.strip():
            node.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return len(matches)


def redact_docx(data: bytes, found: Found) -> tuple[bytes, int]:
    import docx

    document = docx.Document(io.BytesIO(data))
    pattern = found.pattern()
    changed = 0
    if pattern is not None:
        for p in _paragraphs(document):
            changed += _redact_paragraph(p, found, pattern)
    props = document.core_properties
    props.author = ""
    props.last_modified_by = ""
    for name in ("title", "subject", "keywords", "comments", "category"):
        setattr(props, name, redact_text(getattr(props, name) or "", found, pattern)[0])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), changed


def redact_plain(data: bytes, found: Found) -> tuple[bytes, int]:
    encoding = detect_encoding(data, complete=True)
    if encoding is None:
        raise InputError("not a text file")
    text, changed = redact_text(decode(data, encoding), found, found.pattern())
    return text.encode(encoding), changed


def redact_bytes(data: bytes, filename: str, settings: Settings) -> tuple[bytes, str, int]:
    """(redacted bytes, media type, values replaced) for a CSV, TSV, XLSX,
    XLSM, DOCX, PDF (with a text layer) or plain-text file; anything else is
    refused."""
    doc = tio.read_document(data, filename, settings)
    report = revealing_scanner(settings).scan(doc)
    found = Found.of(report)
    media = doc.media_type
    if media in tio.DELIMITED:
        content, n = redact_csv(data, doc, found)
    elif media in tio.SPREADSHEETS:
        content, n = redact_xlsx(data, doc, found)
    elif media == tio.DOCX:
        content, n = redact_docx(data, found)
    elif media == tio.TEXT:
        content, n = redact_plain(data, found)
    elif media == tio.PDF:
        pattern = found.pattern()
        content, n = redact_pdf(data, pattern, lambda t: redact_text(t, found, pattern)[0])
    else:
        raise InputError(
            f"{filename}: cannot redact a {media} file; give CSV, TSV, XLSX, DOCX, PDF or text"
        )
    return content, media, n
