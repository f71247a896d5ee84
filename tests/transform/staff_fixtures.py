"""Synthetic staff lists for the minimisation tests: generated, never real people."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

from faker import Faker

GRADES = ("Grade 3", "Grade 4", "Grade 5", "Grade 6", "Grade 7", "Senior Manager")
GRADE_WEIGHTS = (30, 30, 20, 10, 7, 3)
DEPARTMENTS = ("Cleaning", "Catering", "Security", "Maintenance", "Reception")
DEPARTMENT_WEIGHTS = (40, 25, 15, 15, 5)
ETHNICITIES = (
    "White British",
    "White Irish",
    "Indian",
    "Pakistani",
    "Black Caribbean",
    "Black African",
    "Chinese",
    "Mixed",
)
HEADER = (
    "Name",
    "Date of birth",
    "NI number",
    "Grade",
    "Department",
    "Salary",
    "Ethnicity",
    "FTE",
    "Start date",
    "Email",
)
# NI number prefix letters HMRC issues (first/second positions), and pairs never used.
_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NEVER = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def nino(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(_FIRST) + rng.choice(_SECOND)
        if prefix not in _NEVER:
            break
    digits = f"{rng.randrange(10**6):06d}"
    return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {rng.choice('ABCD')}"


@dataclass(frozen=True)
class Staff:
    header: tuple[str, ...]
    rows: list[list[str]]

    def csv_bytes(self, delimiter: str = ",") -> bytes:
        buf = io.StringIO(newline="")
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
        w.writerow(self.header)
        w.writerows(self.rows)
        return buf.getvalue().encode()

    def xlsx_bytes(self, sheet: str = "Staff") -> bytes:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = sheet
        ws.append(list(self.header))
        for r in self.rows:
            ws.append([float(v) if i in (5, 7) else v for i, v in enumerate(r)])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    def column(self, name: str) -> list[str]:
        i = self.header.index(name)
        return [r[i] for r in self.rows]


def staff_list(n: int, seed: int = 7) -> Staff:
    """``n`` staff with name, date of birth, NI number, grade, department,
    salary, ethnicity, FTE, start date and work e-mail."""
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        first, last = fake.first_name(), fake.last_name()
        rows.append(
            [
                f"{first} {last}",
                fake.date_of_birth(minimum_age=18, maximum_age=66).strftime("%d/%m/%Y"),
                nino(rng),
                rng.choices(GRADES, weights=GRADE_WEIGHTS)[0],
                rng.choices(DEPARTMENTS, weights=DEPARTMENT_WEIGHTS)[0],
                str(rng.randint(18_000, 60_000)),
                rng.choice(ETHNICITIES),
                rng.choice(("1.0", "1.0", "0.8", "0.5")),
                fake.date_between("-30y", "today").strftime("%d/%m/%Y"),
                f"{first}.{last}@example.org".lower().replace("'", ""),
            ]
        )
    return Staff(HEADER, rows)
