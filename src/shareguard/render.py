"""Scan results as JSON, SARIF 2.1.0 and a table for people.

Pure functions of :class:`~shareguard.model.ScanReport`; the CLI and the web
app choose which one to print.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from shareguard import __version__
from shareguard.model import (
    EntityType,
    FileReport,
    ScanReport,
    SpecialCategory,
    count_subjects,
    merge_counts,
    merge_subjects,
    registered_counts,
)

ENTITY_LABELS: dict[str, str] = {
    EntityType.PERSON: "person name",
    EntityType.EMAIL_ADDRESS: "e-mail address",
    EntityType.PHONE_NUMBER: "phone number",
    EntityType.STREET_ADDRESS: "street address",
    EntityType.UK_POSTCODE: "postcode",
    EntityType.DATE_OF_BIRTH: "date of birth",
    EntityType.UK_NINO: "National Insurance number",
    EntityType.UK_NHS: "NHS number",
    EntityType.UK_BANK_ACCOUNT: "bank sort code and account",
    EntityType.IBAN_CODE: "IBAN",
    EntityType.CREDIT_CARD: "payment card number",
    EntityType.UK_PASSPORT: "passport number",
    EntityType.UK_DRIVING_LICENCE: "driving licence number",
    EntityType.UK_VEHICLE_REG: "vehicle registration",
    EntityType.IP_ADDRESS: "IP address",
}

SPECIAL_LABELS: dict[str, str] = {
    SpecialCategory.HEALTH: "health",
    SpecialCategory.ETHNICITY: "racial or ethnic origin",
    SpecialCategory.RELIGION: "religious or philosophical belief",
    SpecialCategory.TRADE_UNION: "trade union membership",
    SpecialCategory.POLITICAL: "political opinion",
    SpecialCategory.SEX_LIFE: "sex life or sexual orientation",
    SpecialCategory.BIOMETRIC: "biometric data",
    SpecialCategory.GENETIC: "genetic data",
    SpecialCategory.CRIMINAL_OFFENCE: "criminal offence data",
}


# People's ids held at once when merging across files (16 bytes each); the
# people of files beyond it are added without deduplication.
MERGE_IDS_LIMIT = 20_000_000


def _people(files: tuple[FileReport, ...]) -> int:
    """Distinct people across files, merged in one pass over at most
    MERGE_IDS_LIMIT ids; files beyond it are added without deduplication."""
    kept: list[pl.DataFrame] = []
    held = extra = 0
    for f in files:
        size = 0 if f.subjects is None else f.subjects.height
        if held + size > MERGE_IDS_LIMIT:
            extra += f.data_subjects
            continue
        if f.subjects is not None:
            kept.append(f.subjects)
        held += size
        extra += f.subjects_overflow
    return extra + count_subjects(merge_subjects(kept))


def summarise(files: tuple[FileReport, ...]) -> ScanReport:
    people = files[0].data_subjects if len(files) == 1 else _people(files)
    every = [r for f in files for r in f.walk()]
    present, possible, refs = registered_counts(b for r in every for b in r.registered)
    return ScanReport(
        files=files,
        data_subjects=people,
        entities=merge_counts(r.entities for r in every),
        special_category=tuple(sorted({s for r in every for s in r.special_category})),
        uninspectable=sum(1 for r in every if r.uninspectable),
        registered_subjects=present,
        possible_subjects=possible,
        subject_refs=refs,
    )


# ----------------------------------------------------------------------------- JSON


def without_findings(report: FileReport) -> FileReport:
    """The same report with its findings dropped (counts and people kept), so
    that a long run need not hold every finding until the end."""
    return replace(report, findings=(), parts=tuple(without_findings(p) for p in report.parts))


def file_to_json(report: FileReport, *, reveal: bool = False) -> dict[str, Any]:
    # registered people in this part and everything nested in it, like data_subjects
    present, possible, refs = registered_counts(b for r in report.walk() for b in r.registered)
    return {
        "path": report.path,
        "type": report.media_type,
        "data_subjects": report.data_subjects,
        "own_data_subjects": report.own_data_subjects,
        "registered_subjects": present,
        "possible_registered_subjects": possible,
        "subject_refs": list(refs),
        "entities": report.entities,
        "special_category": list(report.special_category),
        "uninspectable": report.uninspectable,
        "notes": list(report.notes),
        "findings": [f.as_dict(reveal=reveal) for f in report.findings],
        "parts": [file_to_json(p, reveal=reveal) for p in report.parts],
    }


def to_json(report: ScanReport, *, reveal: bool = False) -> dict[str, Any]:
    return {
        "files": [file_to_json(f, reveal=reveal) for f in report.files],
        "summary": summary_json(report),
    }


def summary_json(report: ScanReport) -> dict[str, Any]:
    """The ``summary`` object of :func:`to_json` alone (no file is rendered)."""
    return {
        "files": len(report.files),
        "data_subjects": report.data_subjects,
        "registered_subjects": report.registered_subjects,
        "possible_registered_subjects": report.possible_subjects,
        "subject_refs": list(report.subject_refs),
        "entities": report.entities,
        "special_category": list(report.special_category),
        "uninspectable": report.uninspectable,
    }


# ----------------------------------------------------------------------------- SARIF

_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_UNINSPECTABLE_RULE = "UNINSPECTABLE"


def _rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "id": str(t),
            "name": str(t).title().replace("_", ""),
            "shortDescription": {"text": f"Personal data: {label}"},
            "defaultConfiguration": {"level": "warning"},
        }
        for t, label in ENTITY_LABELS.items()
    ]
    rules += [
        {
            "id": f"special/{c}",
            "name": "Special" + str(c).title().replace("_", ""),
            "shortDescription": {"text": f"Special-category data: {label}"},
            "defaultConfiguration": {"level": "error"},
        }
        for c, label in SPECIAL_LABELS.items()
    ]
    rules.append(
        {
            "id": _UNINSPECTABLE_RULE,
            "name": "Uninspectable",
            "shortDescription": {"text": "Part could not be inspected"},
            "defaultConfiguration": {"level": "error"},
        }
    )
    return rules


def _artifact(path: str) -> str:
    return path.split("!", 1)[0]


def _sarif_location(report: FileReport, loc: dict[str, Any]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _artifact(report.path)}}
    logical = report.path
    if "row" in loc:
        logical += f"!{loc.get('sheet', '')}!R{loc['row']}"
        if loc.get("column"):
            logical += f"[{loc['column']}]"
        if "!" not in report.path and report.media_type in {
            "text/csv",
            "text/tab-separated-values",
        }:
            physical["region"] = {"startLine": loc["row"]}
    elif "start" in loc and "!" not in report.path and report.media_type.startswith("text/"):
        physical["region"] = {"charOffset": loc["start"], "charLength": loc["end"] - loc["start"]}
    out: dict[str, Any] = {"physicalLocation": physical}
    if "page" in loc:
        logical += f"!page {loc['page']}"
    out["logicalLocations"] = [{"fullyQualifiedName": logical, "kind": "element"}]
    return out


def to_sarif(report: ScanReport) -> dict[str, Any]:
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for top in report.files:
        for part in top.walk():
            if part.uninspectable:
                results.append(
                    {
                        "ruleId": _UNINSPECTABLE_RULE,
                        "ruleIndex": index[_UNINSPECTABLE_RULE],
                        "level": "error",
                        "message": {"text": f"{part.path}: {part.uninspectable}"},
                        "locations": [_sarif_location(part, {})],
                    }
                )
            for f in part.findings:
                rule = f.type if f.type in index else f"special/{f.type}"
                label = ENTITY_LABELS.get(f.type) or SPECIAL_LABELS.get(f.type, f.type)
                results.append(
                    {
                        "ruleId": rule,
                        "ruleIndex": index[rule],
                        "level": "error" if rule.startswith("special/") else "warning",
                        "message": {"text": f"{label} ({f.preview})"},
                        "locations": [_sarif_location(part, f.location.as_dict())],
                        "partialFingerprints": {"valueHash/v1": f.value_hash},
                        "properties": {"detector": f.detector, "score": round(f.score, 3)},
                    }
                )
    return {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ShareGuard",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


# ----------------------------------------------------------------------------- table

# Plural, short forms for the table a person reads at a glance.
_SHORT: dict[str, str] = {
    EntityType.PERSON: "names",
    EntityType.EMAIL_ADDRESS: "e-mails",
    EntityType.PHONE_NUMBER: "phones",
    EntityType.STREET_ADDRESS: "addresses",
    EntityType.UK_POSTCODE: "postcodes",
    EntityType.DATE_OF_BIRTH: "birth dates",
    EntityType.UK_NINO: "NI numbers",
    EntityType.UK_NHS: "NHS numbers",
    EntityType.UK_BANK_ACCOUNT: "bank accounts",
    EntityType.IBAN_CODE: "IBANs",
    EntityType.CREDIT_CARD: "card numbers",
    EntityType.UK_PASSPORT: "passports",
    EntityType.UK_DRIVING_LICENCE: "driving licences",
    EntityType.UK_VEHICLE_REG: "vehicle regs",
    EntityType.IP_ADDRESS: "IP addresses",
}


def _found_text(report: FileReport) -> Text:
    text = Text(", ".join(f"{n} {_SHORT.get(t, t)}" for t, n in report.entities.items()))
    if report.special_category:
        if text:
            text.append("; ")
        text.append(
            "special: " + ", ".join(SPECIAL_LABELS.get(s, s) for s in report.special_category),
            style="bold red",
        )
    return text


def _file_rows(report: FileReport, depth: int = 0) -> list[tuple[Text, str, Text]]:
    name = Text(("  " * (depth - 1) + "└ " if depth else "") + report.path.rsplit("!", 1)[-1])
    if report.uninspectable:
        found = Text("UNINSPECTABLE: " + report.uninspectable, style="bold red")
    elif report.entities or report.special_category:
        found = _found_text(report)
    elif report.parts and report.has_personal_data:
        found = Text("(in its parts)", style="yellow")
    else:
        found = Text("nothing found", style="green")
    people = str(report.data_subjects) if report.data_subjects else "-"
    rows = [(name, people, found)]
    for p in report.parts:
        rows.extend(_file_rows(p, depth + 1))
    return rows


def print_table(report: ScanReport, console: Console) -> None:
    table = RichTable(title="ShareGuard scan", title_justify="left", expand=False)
    table.add_column("file", overflow="fold", ratio=2)
    table.add_column("people", justify="right", no_wrap=True)
    table.add_column("personal data found", overflow="fold", ratio=3)
    for f in report.files:
        for row in _file_rows(f):
            table.add_row(*row)
    console.print(table)
    summary = (
        f"{len(report.files)} file(s), {report.data_subjects} people, "
        f"{sum(report.entities.values())} findings"
    )
    if report.special_category:
        summary += ", special category: " + ", ".join(
            SPECIAL_LABELS.get(s, s) for s in report.special_category
        )
    if report.uninspectable:
        summary += f", {report.uninspectable} part(s) could not be inspected"
    console.print(summary, style="bold red" if report.flagged else "bold green")
