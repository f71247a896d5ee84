"""Letters to the people affected, mail-merged from a people file the DPO
supplies at that moment (names and addresses are read, used and forgotten:
ShareGuard keeps none of them).

Each letter is rendered from a Jinja2 text template the organisation can
edit (``templates/letter.txt.j2`` is the default): blank lines separate
paragraphs, ``# `` starts a heading and ``- `` a bullet.  The template sees
only the addressee's name and address and the kinds of *their* data that
were involved — never anyone else, never an identifier's value (the key
column is used for matching only).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, TemplateError

from shareguard.breach.documents import Block
from shareguard.breach.fastdocx import DocxWriter
from shareguard.breach.fastpdf import letter_pdf
from shareguard.breach.report import CATEGORY_NAMES
from shareguard.errors import InputError

LETTER_FORMATS = ("docx", "pdf")

# Header words (lower case, letters only) of the columns a letter may use.
_NAME_COLUMNS = {
    "title": "title",
    "salutation": "title",
    "forename": "first_name",
    "forenames": "first_name",
    "firstname": "first_name",
    "givenname": "first_name",
    "surname": "last_name",
    "lastname": "last_name",
    "familyname": "last_name",
    "name": "name",
    "fullname": "name",
}
_ADDRESS = re.compile(r"address|street|line\d|town|city|county|postcode|postalcode|zip")

# What a person can do, by the kind of their data involved.
ADVICE = {
    "UK_NINO": "Look out for letters or messages about tax, benefits or pensions that you did "
    "not expect, and tell HMRC if anything looks wrong.",
    "DATE_OF_BIRTH": "Be careful with calls, e-mails or letters that use your personal details "
    "to win your trust; we will never ask you for passwords or bank details.",
    "UK_BANK_ACCOUNT": "Check your bank statements and tell your bank at once about any payment "
    "you do not recognise.",
    "IBAN_CODE": "Check your bank statements and tell your bank at once about any payment you do "
    "not recognise.",
    "CREDIT_CARD": "Ask your card provider to replace your card.",
    "STREET_ADDRESS": "If you are worried about your safety at home, tell us and we will help.",
    "UK_PASSPORT": "Consider reporting your passport number to HM Passport Office.",
}


def _header_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


@dataclass(frozen=True, slots=True)
class Addressee:
    """One row of the people file, reduced to what a letter may show."""

    key: str  # for matching only; never rendered
    title: str
    first_name: str
    last_name: str
    full_name: str
    address: tuple[str, ...]
    row: int


def normalise_key(key: str) -> str:
    return re.sub(r"\s+", "", key).upper()


def read_people(path: Path, key_column: str) -> Iterator[Addressee]:
    """Rows of the people file.  Errors name the file and line."""
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the people file ({exc.strerror})") from None
    with fh:
        reader = csv.DictReader(fh)
        headers = reader.fieldnames or []
        if key_column not in headers:
            raise InputError(
                f"{path}:1: no column {key_column!r}; the columns are {', '.join(headers)}"
            )
        roles = {h: _NAME_COLUMNS.get(_header_key(h)) for h in headers}
        address_cols = [h for h in headers if not roles[h] and _ADDRESS.search(_header_key(h))]
        for row in reader:
            line = reader.line_num
            key = (row.get(key_column) or "").strip()
            if not key:
                raise InputError(f"{path}:{line}: the {key_column} column is empty")
            parts = {role: (row.get(h) or "").strip() for h, role in roles.items() if role}
            full = parts.get("name") or " ".join(
                p for p in (parts.get("first_name", ""), parts.get("last_name", "")) if p
            )
            yield Addressee(
                normalise_key(key),
                parts.get("title", ""),
                parts.get("first_name", ""),
                parts.get("last_name", ""),
                full,
                tuple(v for h in address_cols if (v := (row.get(h) or "").strip())),
                line,
            )


_env = Environment(
    loader=PackageLoader("shareguard.breach", "templates"),
    undefined=StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


def load_template(path: Path | None) -> Template:
    try:
        if path is None:
            return _env.get_template("letter.txt.j2")
        return _env.from_string(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the template ({exc.strerror})") from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"{path}:{line or 1}: template error: {exc.message}") from None


def person_context(
    addressee: Addressee, categories: Sequence[str], special: Sequence[str], common: dict[str, Any]
) -> dict[str, Any]:
    salutation = " ".join(p for p in (addressee.title, addressee.last_name) if p)
    return {
        **common,
        "name": addressee.full_name,
        "salutation": salutation or addressee.full_name or "Sir or Madam",
        "address": list(addressee.address),
        "data": sorted({CATEGORY_NAMES.get(c, c.lower()) for c in categories}, key=str.lower),
        "special": sorted({CATEGORY_NAMES.get(s, s) for s in special}),
        "advice": sorted({ADVICE[c] for c in categories if c in ADVICE}),
    }


def blocks(text: str) -> list[Block]:
    """Template output to blocks: blank lines end a paragraph, ``# `` is a
    heading, ``- `` a bullet; single line breaks are kept (addresses)."""
    out: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = chunk.strip("\n").split("\n")
        if all(line.startswith("- ") for line in lines):
            out.append(Block("bullets", items=tuple(line[2:].strip() for line in lines)))
        elif len(lines) == 1 and lines[0].startswith("# "):
            out.append(Block("heading", lines[0][2:].strip()))
        else:
            out.append(Block("para", "\n".join(line.rstrip() for line in lines)))
    return out


class LetterWriter:
    """Renders and writes one letter per person in the chosen formats."""

    def __init__(self, template: Template, formats: Sequence[str]) -> None:
        bad = [f for f in formats if f not in LETTER_FORMATS]
        if bad or not formats:
            raise InputError(f"letter formats are {', '.join(LETTER_FORMATS)} (got {formats})")
        self.template = template
        self.formats = tuple(formats)
        self._docx = DocxWriter() if "docx" in formats else None

    def write(self, out_dir: Path, stem: str, context: dict[str, Any]) -> list[Path]:
        try:
            text = self.template.render(**context)
        except TemplateError as exc:
            raise InputError(f"letter template: {exc}") from None
        body = blocks(text)
        written = []
        if self._docx is not None:
            path = out_dir / f"{stem}.docx"
            path.write_bytes(self._docx.render(body))
            written.append(path)
        if "pdf" in self.formats:
            path = out_dir / f"{stem}.pdf"
            path.write_bytes(letter_pdf(str(context.get("subject", "Letter")), body))
            written.append(path)
        return written
