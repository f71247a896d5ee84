"""Labelled synthetic prose for the ShareGuard-vs-Presidio comparison.

What it makes: short UK-style documents (letters, meeting minutes, e-mails,
social-care case notes, HR notes), each with gold character spans
``(start, end, type)`` for the personal data it contains.  Everything is made
up by this file from its own word lists (Faker is deliberately not used, so
that this set does not share names or streets with the development corpus in
``../shared/eval``).

Deterministic: the same ``seed`` and ``n_docs`` always give the same
documents, byte for byte (only :class:`random.Random` with that seed is used).

Gold types and conventions (the same as the development corpus):

* ``PERSON`` -- a person's name as written, *without* the title: "Dr Amara
  Okafor" is gold "Amara Okafor"; "Mrs Okafor" is gold "Okafor"; a first name on
  its own ("Dear Priya,") is gold too.  Names are drawn from British, Irish,
  South Asian, West/East African, Caribbean, East European, Chinese,
  Vietnamese, Arabic, Turkish, Southern European and Polish lists.
* ``STREET_ADDRESS`` -- house or flat number and street, with the town when the
  town follows on the same line ("12 Mill Lane, Hexley"); the postcode is a
  separate ``UK_POSTCODE`` span.
* ``UK_POSTCODE`` obeys the position rules (letters allowed in each place),
  ``UK_NINO`` the prefix/suffix rules, ``UK_NHS`` the mod-11 check digit,
  ``IBAN_CODE`` the mod-97 check, ``CREDIT_CARD`` the Luhn check.
* ``UK_BANK_ACCOUNT`` -- a sort code and an account number written together;
  the span runs from the first digit of the sort code to the last digit of the
  account number.
* ``DATE_OF_BIRTH`` -- only the date, and only when the text says it is a
  birth date.  Other dates (meetings, appointments, invoices) are not gold.
* ``PHONE_NUMBER``, ``EMAIL_ADDRESS``, ``IP_ADDRESS`` -- the value as written.

Hard negatives (never gold, there to catch false positives): company names
built from surnames ("Hughes & Mistry Ltd"), place names used as places ("the
Bradford depot"), product codes, invoice numbers that *pass* the NHS mod-11
check, "public liability" and other insurance phrases, appointment and
invoice dates, money, times, room numbers and ticket references.

    uv run python bench/prose_corpus.py OUT.jsonl [--docs 2400] [--seed 20251125]

writes one JSON object per line: ``{"id", "kind", "text", "spans": [[start,
end, type], ...]}`` and checks every gold value before it finishes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20251125
DEFAULT_DOCS = 2400

# --------------------------------------------------------------------------- word lists

_ORIGINS: dict[str, tuple[str, str]] = {
    "british": (
        "Oliver George Harry Jack Charlie Thomas William Samuel Daniel Joseph Amelia Olivia "
        "Emily Isla Poppy Jessica Sophie Grace Lucy Eleanor Margaret Dorothy Harold Graham "
        "Wendy Trevor Gillian Nigel",
        "Thornton Ashworth Pemberton Whitfield Blackwood Hargreaves Cartwright Fairbairn "
        "Sutcliffe Greenhalgh Ramsbottom Oakley Pickering Winterbottom Haworth Bainbridge "
        "Kettleborough Lockwood Marsden Birtwistle Entwistle Holroyd Crabtree Sowerby",
    ),
    "irish_welsh": (
        "Siobhan Ciaran Aoife Niamh Padraig Eoin Saoirse Cormac Rhys Gethin Bethan Cerys "
        "Dafydd Eluned Owain Sinead",
        "O'Sullivan McCarthy Gallagher Donnelly Quinlan Moynihan Ni Bhriain Llewellyn "
        "Pritchard Vaughan ap Rhys Prothero Gwilliam Maguire",
    ),
    "south_asian": (
        "Priya Arjun Ananya Rohan Sanjay Deepika Harpreet Gurpreet Manpreet Imran Ayesha "
        "Farhan Nusrat Tahmina Rajesh Sunita Kiran Vikram Lakshmi Anil Bilal Zainab Sadia "
        "Mehwish Ravinder Jaswinder",
        "Patel Sharma Mistry Chaudhry Iqbal Rahman Begum Choudhury Sandhu Gill Dhillon "
        "Ramanathan Subramaniam Banerjee Chatterjee Siddiqui Qureshi Hussain Bhatti Nair "
        "Krishnan Desai Thakkar Parmar Solanki",
    ),
    "african": (
        "Amara Chidi Ngozi Oluwaseun Adaeze Kwame Abena Kofi Yaw Akosua Tendai Chipo "
        "Thabo Lindiwe Wanjiru Kamau Ayodele Folasade Emeka Obinna Zawadi Mandla Nnamdi "
        "Efua Segun",
        "Okafor Adeyemi Okonkwo Mensah Asante Boateng Owusu Nwosu Eze Balogun Oyelaran "
        "Mutasa Moyo Dlamini Nkosi Kariuki Otieno Achieng Abiodun Onyekachi Appiah "
        "Oduya Afolabi",
    ),
    "caribbean": (
        "Marcus Delroy Winston Claudette Marcia Errol Lorna Beverley Desmond Yvonne",
        "Campbell Bailey Francis Grant Thompson-Reid McKenzie Barrett Forbes Beckford",
    ),
    "east_european": (
        "Katarzyna Agnieszka Tomasz Piotr Magdalena Krzysztof Marek Andrzej Ewa Lukasz "
        "Ioana Mihai Andreea Bogdan Alexandru Dragos Vasile Olena Oksana Dmytro Yuliia "
        "Ilze Janis Rasa Tomas Petra Jiri",
        "Kowalski Nowak Wisniewska Wojcik Kaminski Lewandowska Zielinski Szymanska "
        "Popescu Ionescu Constantinescu Dumitru Stanciu Kovalenko Shevchenko Bondarenko "
        "Tkachenko Ozolins Kazlauskas Petrauskiene Novotna Dvorak Horvath Nagy",
    ),
    "chinese_se_asian": (
        "Wei Jing Xiaoling Hao Mei Jun Yan Zhiwei Lihua Qiang Minh Thi Anh Linh Tuan Hoa Kai Xin",
        "Zhang Wang Liu Chen Huang Zhao Zhou Xu Sun Ma Guo Lin Tran Nguyen Pham Hoang "
        "Vuong Cheung Leung Yip",
    ),
    "arabic_turkish": (
        "Omar Yusuf Fatima Layla Khalid Mariam Hassan Noor Samir Rania Tariq Huda Karim "
        "Amina Mehmet Elif Emre Zeynep Ayse Burak",
        "Al-Sayed Haddad Mansour Khalil Nasser Aziz Farouk El-Amin Hamdan Saleh Yilmaz "
        "Demir Ozturk Aydin Celik Kaya Arslan Sahin",
    ),
    "southern_european": (
        "Giulia Matteo Francesca Alessandro Chiara Lorenzo Sofia Diego Lucia Javier "
        "Ines Tiago Beatriz Joao Eleni Dimitris Nikos",
        "Rossi Esposito Bianchi Romano Ferrari Garcia Fernandez Rodrigues Oliveira "
        "Pereira Papadopoulos Georgiou Konstantinou",
    ),
}
NAMES: dict[str, tuple[list[str], list[str]]] = {
    origin: (given.split(), [s.replace("_", " ") for s in family.split()])
    for origin, (given, family) in _ORIGINS.items()
}
# "Ni Bhriain" and "ap Rhys" are two-word surnames: keep them whole.
NAMES["irish_welsh"] = (
    NAMES["irish_welsh"][0],
    [
        "O'Sullivan",
        "McCarthy",
        "Gallagher",
        "Donnelly",
        "Quinlan",
        "Moynihan",
        "Ni Bhriain",
        "Llewellyn",
        "Pritchard",
        "Vaughan",
        "ap Rhys",
        "Prothero",
        "Gwilliam",
        "Maguire",
    ],
)

TITLES_M = ["Mr", "Dr"]
TITLES_F = ["Mrs", "Ms", "Miss", "Dr"]
STREET_STEMS = (
    "Mill Ash Beech Rowan Tanner Weaver Kiln Quarry Chapel Brook Foundry Orchard Linden "
    "Coldharbour Furlong Saxon Holly Bramble Heron Kingfisher Meadowbank Cobden Peel "
    "Gladstone Wharf Canal Ropewalk Cooper Fletcher Marlow Alder Hazel Juniper Sorrel "
    "Larkspur Thistle Goldcrest Pennine Moorside Fellside Dalesway"
).split()
# Streets named after people: an address, not a PERSON.
STREET_STEMS += "Nelson Wellington Victoria Albert Cromwell Pankhurst Brunel Seacole Attlee".split()
BARE_STREETS = (
    "Kingsway,Broadway,The Green,Parkside,Northgate,The Crescent,Highfield,Moorgate,"
    "The Paddock,Westbourne"
).split(",")
STREET_SUFFIXES = (
    "Road Street Lane Avenue Close Crescent Drive Way Gardens Terrace Grove Place Row "
    "Walk Mews Court Rise Hill View"
).split()
TOWNS = (
    "Hexley Northmoor Brackenford Wendlebury Ashby Carrow Thornbury Kelsall Marden "
    "Stanwick Elmstead Radley Cowling Sowerby Bridge Hebden Mossley Ormskirk Penrith "
    "Keswick Wetherby Tadcaster Selby Otley Ilkley Barnsley Rotherham Wakefield "
    "Dewsbury Batley"
).split()
# Places that are also given names: used only as places (hard negatives).
NAME_PLACES = "Beverley Preston Lincoln Florence Chelsea Stanley Clifton Hamilton Kingston".split()
# Real cities, used only as places (hard negatives) and as the town of some addresses.
CITIES = (
    "Leeds Bradford Manchester Sheffield Birmingham Bristol Cardiff Glasgow Edinburgh "
    "Newcastle Nottingham Leicester Coventry Liverpool Swansea Belfast Derby Hull York"
).split()
POSTCODE_AREAS = (
    "LS BD HX HD WF S M B BS CF G EH NE NG LE CV L SA BT DE HU YO OL BB PR CA LA "
    "SW SE N E W NW EC WC TN RH GU OX CB IP NR PE"
).split()
# Made-up organisations under real top-level domains (Presidio checks the TLD).
MAIL_DOMAINS = (
    "northmoor-council.gov.uk hexleycommunity.nhs.uk brackenford-ha.org.uk mailbox-uk.co.uk "
    "wendlebury-academy.sch.uk carrowvalley.org postbox-mail.com carers-network.org.uk"
).split()
COMPANY_TAILS = ["Ltd", "plc", "LLP", "& Sons", "Associates", "Group", "Partners", "Holdings"]
COMPANY_TRADES = (
    "Logistics Joinery Plumbing Facilities Catering Roofing Scaffolding Cleaning "
    "Consulting Surveyors Haulage Electrical Print Security"
).split()
DEPTS = (
    "Adult Social Care,Housing Options,Revenues and Benefits,Estates,Children's Services,"
    "Occupational Health,Payroll,Procurement,Legal Services,Patient Advice and Liaison"
).split(",")
MONTHS = (
    "January February March April May June July August September October November December"
).split()

# --------------------------------------------------------------------------- check rules


def nhs_check_digit(nine: str) -> int | None:
    """Mod-11 check digit for nine NHS digits; ``None`` when it would be 10."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return None if check == 10 else (0 if check == 11 else check)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def iban_check(country: str, bban: str) -> str:
    moved = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in moved))
    return f"{98 - number % 97:02d}"


_NINO_BAD_FIRST = set("DFIQUV")
_NINO_BAD_SECOND = set("DFIOQUV")
_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_PC_1 = [c for c in string.ascii_uppercase if c not in "QVX"]
_PC_2 = [c for c in string.ascii_uppercase if c not in "IJZ"]
_PC_3 = list("ABCDEFGHJKPSTUW")
_PC_4 = list("ABEHMNPRVWXY")
_PC_IN = [c for c in string.ascii_uppercase if c not in "CIKMOV"]
POSTCODE_RE = re.compile(
    r"^(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2}$"
)


# --------------------------------------------------------------------------- values


@dataclass
class Person:
    given: str
    family: str
    female: bool
    title: str

    @property
    def full(self) -> str:
        return f"{self.given} {self.family}"


class Values:
    """Random but valid values.  Every method draws only from ``self.rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def person(self) -> Person:
        rng = self.rng
        given, family = NAMES[rng.choice(sorted(NAMES))]
        female = rng.random() < 0.5
        return Person(
            rng.choice(given),
            rng.choice(family),
            female,
            rng.choice(TITLES_F if female else TITLES_M),
        )

    def street(self) -> str:
        rng = self.rng
        number = str(rng.randint(1, 240))
        if rng.random() < 0.15:
            number = f"Flat {rng.randint(1, 24)}, {rng.randint(2, 90)}"
        elif rng.random() < 0.1:
            number += rng.choice("ab")
        if rng.random() < 0.15:
            # No suffix word to key on ("7 Kingsway", "3 The Green").
            return f"{number} {rng.choice(BARE_STREETS)}"
        return f"{number} {rng.choice(STREET_STEMS)} {rng.choice(STREET_SUFFIXES)}"

    def town(self) -> str:
        return self.rng.choice(TOWNS + CITIES[:6])

    def postcode(self) -> str:
        rng = self.rng
        area = rng.choice(POSTCODE_AREAS)
        if len(area) == 1:
            shape = rng.choice(["9", "99", "9A"])
        else:
            shape = (
                rng.choice(["9", "99", "9A"])
                if area in {"SW", "SE", "EC", "WC", "NW"}
                else rng.choice(["9", "99"])
            )
        district = ""
        for ch in shape:
            if ch == "9":
                district += str(rng.randint(1, 9) if not district else rng.randint(0, 9))
            else:
                district += rng.choice(_PC_3 if len(area) == 1 else _PC_4)
        inward = f"{rng.randint(0, 9)}{rng.choice(_PC_IN)}{rng.choice(_PC_IN)}"
        return f"{area}{district} {inward}"

    def nino(self) -> str:
        rng = self.rng
        while True:
            a = rng.choice([c for c in string.ascii_uppercase if c not in _NINO_BAD_FIRST])
            b = rng.choice([c for c in string.ascii_uppercase if c not in _NINO_BAD_SECOND])
            if a + b not in _NINO_BAD_PREFIX:
                break
        digits = f"{rng.randint(0, 999999):06d}"
        suffix = rng.choice("ABCD")
        if rng.random() < 0.6:
            return f"{a}{b} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        return f"{a}{b}{digits}{suffix}"

    def nhs_digits(self) -> str:
        while True:
            nine = f"{self.rng.randint(100000000, 999999999)}"
            check = nhs_check_digit(nine)
            if check is not None:
                return nine + str(check)

    def nhs(self) -> str:
        d = self.nhs_digits()
        return f"{d[:3]} {d[3:6]} {d[6:]}" if self.rng.random() < 0.75 else d

    def invoice(self) -> str:
        """A 10-digit number that passes the NHS mod-11 check: a decoy."""
        return self.nhs_digits()

    def card(self) -> str:
        rng = self.rng
        kind = rng.random()
        prefix = (
            "4"
            if kind < 0.5
            else (str(rng.randint(51, 55)) if kind < 0.85 else rng.choice(["34", "37"]))
        )
        length = 15 if prefix in {"34", "37"} else 16
        body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
        digits = next(body + str(d) for d in range(10) if luhn_ok(body + str(d)))
        sep = rng.choice([" ", " ", "-", ""])
        if length == 15:
            return sep.join([digits[:4], digits[4:10], digits[10:]])
        return sep.join(digits[i : i + 4] for i in range(0, 16, 4))

    def sort_code(self) -> str:
        return "-".join(f"{self.rng.randint(0, 99):02d}" for _ in range(3)).replace("00-", "10-", 1)

    def account(self) -> str:
        return f"{self.rng.randint(10000000, 99999999)}"

    def iban(self) -> str:
        rng = self.rng
        country = rng.choice(["GB", "GB", "GB", "IE", "DE"])
        if country == "DE":
            bban = "".join(str(rng.randint(0, 9)) for _ in range(18))
        else:
            bank = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
            bban = bank + "".join(str(rng.randint(0, 9)) for _ in range(14))
        raw = country + iban_check(country, bban) + bban
        if rng.random() < 0.7:
            return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
        return raw

    def phone(self) -> str:
        rng = self.rng
        r = rng.random()

        def n(k: int) -> str:
            return "".join(str(rng.randint(0, 9)) for _ in range(k))

        if r < 0.4:
            body = f"7{rng.choice('123456789')}{n(2)} {n(6)}"
            return rng.choice(
                [
                    f"0{body}",
                    f"+44 {body}",
                    f"0{body[:4]} {body[5:8]} {body[8:]}",
                    f"0{body}".replace(" ", ""),
                ]
            )
        if r < 0.6:
            return rng.choice(
                [
                    f"020 {rng.choice('378')}{n(3)} {n(4)}",
                    f"+44 20 {rng.choice('378')}{n(3)} {n(4)}",
                ]
            )
        if r < 0.85:
            area = rng.choice(
                [
                    "0113",
                    "0114",
                    "0115",
                    "0116",
                    "0117",
                    "0118",
                    "0121",
                    "0131",
                    "0141",
                    "0151",
                    "0161",
                    "0191",
                ]
            )
            local = f"{rng.randint(2, 4)}{n(2)}"
            return rng.choice(
                [
                    f"{area} {local} {n(4)}",
                    f"({area}) {local} {n(4)}",
                    f"{area}-{local}-{n(4)}",
                    f"+44 (0){area[1:]} {local} {n(4)}",
                ]
            )
        area = rng.choice(["01422", "01484", "01924", "01274", "01535", "01943", "01457", "01706"])
        return f"{area} {rng.randint(2, 8)}{n(5)}"

    def email(self, p: Person | None = None) -> str:
        rng = self.rng
        domain = rng.choice(MAIL_DOMAINS)
        if p is None:
            p = self.person()
        g = re.sub(r"[^a-z]", "", p.given.lower())
        f = re.sub(r"[^a-z]", "", p.family.lower())
        local = rng.choice([f"{g}.{f}", f"{g[0]}{f}", f"{g}{rng.randint(1, 99)}", f"{f}.{g[0]}"])
        return f"{local}@{domain}"

    def ip(self) -> str:
        rng = self.rng
        if rng.random() < 0.12:
            groups = ":".join(f"{rng.randint(0, 0xFFFF):x}" for _ in range(2))
            return f"2001:db8:{groups}::{rng.randint(1, 0xFFFF):x}"
        first = rng.choice([10, 172, 192, 81, 86, 151, 212, 62])
        return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def date(self, year_lo: int, year_hi: int) -> str:
        rng = self.rng
        y, m, d = rng.randint(year_lo, year_hi), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice(
            [
                f"{d:02d}/{m:02d}/{y}",
                f"{d} {MONTHS[m - 1]} {y}",
                f"{d} {MONTHS[m - 1][:3]} {y}",
                f"{y}-{m:02d}-{d:02d}",
                f"{d}.{m}.{y}",
            ]
        )

    def dob(self) -> str:
        return self.date(1931, 2012)

    def other_date(self) -> str:
        return self.date(2022, 2026)

    def company(self) -> str:
        rng = self.rng
        fam = [f for _, fams in NAMES.values() for f in fams]
        if rng.random() < 0.5:
            return f"{rng.choice(fam)} & {rng.choice(fam)} {rng.choice(COMPANY_TAILS)}"
        return f"{rng.choice(fam)} {rng.choice(COMPANY_TRADES)} {rng.choice(COMPANY_TAILS)}"

    def product(self) -> str:
        rng = self.rng

        def letters(k: int) -> str:
            return "".join(rng.choice("ABEGHKLMPRTWXYZ") for _ in range(k))

        return rng.choice(
            [
                f"{letters(3)}-{rng.randint(1000, 9999)}-{letters(1)}",
                f"SKU {rng.randint(100000, 999999)}",
                f"model {letters(2)}{rng.randint(100, 999)}",
                f"part no. {letters(2)}/{rng.randint(10, 99)}/{rng.randint(100, 999)}",
            ]
        )


# --------------------------------------------------------------------------- document assembly


@dataclass(frozen=True, slots=True)
class GoldSpan:
    start: int
    end: int
    type: str


@dataclass(frozen=True, slots=True)
class ProseDoc:
    id: str
    kind: str
    text: str
    spans: tuple[GoldSpan, ...]


@dataclass
class _Builder:
    parts: list[str] = field(default_factory=list)
    spans: list[GoldSpan] = field(default_factory=list)
    length: int = 0

    def add(self, s: str, gold: str | None = None) -> None:
        if gold is not None:
            self.spans.append(GoldSpan(self.length, self.length + len(s), gold))
        self.parts.append(s)
        self.length += len(s)


@dataclass
class _Ctx:
    v: Values
    subject: Person
    author: Person
    other: Person
    org: str


Filler = Callable[[_Ctx, _Builder], None]

_SLOT = re.compile(r"\{(\w+)\}")


def _fill(ctx: _Ctx, b: _Builder, template: str) -> None:
    """Render a template; ``{SLOT}`` becomes a value, gold or decoy (see :data:`_SLOTS`)."""
    pos = 0
    for m in _SLOT.finditer(template):
        b.add(template[pos : m.start()])
        _SLOTS[m.group(1)](ctx, b)
        pos = m.end()
    b.add(template[pos:])


def _title_name(p: Person, b: _Builder) -> None:
    b.add(p.title + " ")
    b.add(p.family, "PERSON")


def _title_full(p: Person, b: _Builder) -> None:
    b.add(p.title + " ")
    b.add(p.full, "PERSON")


def _address(ctx: _Ctx, b: _Builder) -> None:
    street = ctx.v.street()
    if ctx.v.rng.random() < 0.8:
        street += f", {ctx.v.town()}"
    b.add(street, "STREET_ADDRESS")


def _bank(ctx: _Ctx, b: _Builder) -> None:
    sort, acc = ctx.v.sort_code(), ctx.v.account()
    joiner = ctx.v.rng.choice([", account number ", ", a/c ", " / account ", " acc no. "])
    b.add(f"{sort}{joiner}{acc}", "UK_BANK_ACCOUNT")


_SLOTS: dict[str, Filler] = {
    "NAME": lambda c, b: b.add(c.subject.full, "PERSON"),
    "FIRST": lambda c, b: b.add(c.subject.given, "PERSON"),
    "TNAME": lambda c, b: _title_name(c.subject, b),
    "TFULL": lambda c, b: _title_full(c.subject, b),
    "AUTHOR": lambda c, b: b.add(c.author.full, "PERSON"),
    "AFIRST": lambda c, b: b.add(c.author.given, "PERSON"),
    "OTHER": lambda c, b: b.add(c.other.full, "PERSON"),
    "OTITLE": lambda c, b: _title_name(c.other, b),
    "RANDNAME": lambda c, b: b.add(c.v.person().full, "PERSON"),
    "SURFIRST": lambda c, b: b.add(f"{c.subject.family.upper()}, {c.subject.given}", "PERSON"),
    "ADDR": _address,
    "POSTCODE": lambda c, b: b.add(c.v.postcode(), "UK_POSTCODE"),
    "PHONE": lambda c, b: b.add(c.v.phone(), "PHONE_NUMBER"),
    "EMAIL": lambda c, b: b.add(c.v.email(c.subject), "EMAIL_ADDRESS"),
    "AEMAIL": lambda c, b: b.add(c.v.email(c.author), "EMAIL_ADDRESS"),
    "DOB": lambda c, b: b.add(c.v.dob(), "DATE_OF_BIRTH"),
    "NINO": lambda c, b: b.add(c.v.nino(), "UK_NINO"),
    "NHS": lambda c, b: b.add(c.v.nhs(), "UK_NHS"),
    "IBAN": lambda c, b: b.add(c.v.iban(), "IBAN_CODE"),
    "CARD": lambda c, b: b.add(c.v.card(), "CREDIT_CARD"),
    "BANK": _bank,
    "IP": lambda c, b: b.add(c.v.ip(), "IP_ADDRESS"),
    # decoys: never gold
    "DATE": lambda c, b: b.add(c.v.other_date()),
    "COMPANY": lambda c, b: b.add(c.v.company()),
    "CITY": lambda c, b: b.add(c.v.rng.choice(CITIES)),
    "PRODUCT": lambda c, b: b.add(c.v.product()),
    "INVOICE": lambda c, b: b.add(c.v.invoice()),
    "ORG": lambda c, b: b.add(c.org),
    "DEPT": lambda c, b: b.add(c.v.rng.choice(DEPTS)),
    "MONEY": lambda c, b: b.add(f"£{c.v.rng.randint(20, 9000):,}.{c.v.rng.randint(0, 99):02d}"),
    "TIME": lambda c, b: b.add(
        f"{c.v.rng.randint(9, 16)}:{c.v.rng.choice(['00', '15', '30', '45'])}"
    ),
    "ROOM": lambda c, b: b.add(f"Room {c.v.rng.randint(1, 4)}.{c.v.rng.randint(1, 40):02d}"),
    "TICKET": lambda c, b: b.add(f"INC{c.v.rng.randint(1000000, 9999999)}"),
    "YEAR": lambda c, b: b.add(str(c.v.rng.randint(2019, 2026))),
    "NAMEPLACE": lambda c, b: b.add(c.v.rng.choice(NAME_PLACES)),
    "SORTLIKE": lambda c, b: b.add(c.v.sort_code()),
    "ACCTLIKE": lambda c, b: b.add(c.v.account()),
}

# Body sentences shared by several kinds, grouped by what they are about.
IDENTITY = [
    "{TNAME} (date of birth {DOB}) was referred by {OTHER} of the {DEPT} team.",
    "Client: {NAME}, DOB {DOB}, NHS number {NHS}.",
    "{FIRST} was born on {DOB} and has lived at {ADDR}, {POSTCODE} since {YEAR}.",
    "National Insurance number: {NINO}. Date of birth: {DOB}.",
    "We hold the following details for {TFULL}: NI {NINO}, NHS No. {NHS}.",
    "{NAME} gave their date of birth as {DOB} and their NI number as {NINO}.",
    "Patient {NAME} (NHS {NHS}, d.o.b. {DOB}) attended with {OTHER}.",
    "Please confirm the NHS number {NHS} for {TNAME} before the appointment on {DATE}.",
    "{FIRST}'s birthday is {DOB}; the birth certificate was seen on {DATE}.",
    "Re: {SURFIRST} (born {DOB}), NHS {NHS}.",
]
CONTACT = [
    "{FIRST} can be reached on {PHONE} or at {EMAIL}.",
    "Home address: {ADDR}, {POSTCODE}. Telephone {PHONE}.",
    "The family moved from {ADDR} to {ADDR}, {POSTCODE} in {YEAR}.",
    "Contact {TNAME} on {PHONE} (mobile) or by e-mail to {EMAIL}.",
    "Correspondence should go to {ADDR}, {POSTCODE}, not to the {CITY} office.",
    "Her daughter {RANDNAME} ({PHONE}) is the named next of kin.",
    "Login for {EMAIL} was seen from IP address {IP} on {DATE}.",
    "Access to the portal was blocked for {IP} after three failed attempts by {FIRST}.",
    "{FIRST} now lives with {OTHER} at {ADDR} ({POSTCODE}); landline {PHONE}.",
]
MONEY_SENT = [
    "Refund of {MONEY} to be paid to sort code {BANK}.",
    "Salary will be paid into sort code {BANK} from {DATE}.",
    "Payment details for {TNAME}: IBAN {IBAN}.",
    "The deposit was taken on card {CARD}; the receipt was e-mailed to {EMAIL}.",
    "{FIRST} asked us to update the bank details to IBAN {IBAN} (sort code {BANK}).",
    "Card ending in the number {CARD} was declined on {DATE}.",
]
DECOYS = [
    "Invoice {INVOICE} from {COMPANY} for {MONEY} is due on {DATE}.",
    "The public liability insurance held by {COMPANY} expires on {DATE}.",
    "Order {PRODUCT} ({MONEY}) was delivered to the {CITY} depot on {DATE}.",
    "{COMPANY} quoted {MONEY} for the works; invoice number {INVOICE}.",
    "Employers' liability and public liability cover were both renewed in {YEAR}.",
    "Replacement units ({PRODUCT}) are held in stock at {CITY}.",
    "The next meeting is on {DATE} at {TIME} in {ROOM}.",
    "Ticket {TICKET} was raised on {DATE} and closed on {DATE}.",
    "Credit note {INVOICE} cancels the {MONEY} charge raised by {COMPANY}.",
    "Public liability claims against {ORG} fell to {MONEY} in {YEAR}.",
    "Delivery to {ORG}, {CITY}, is booked for {DATE}, reference {PRODUCT}.",
    "Staff from the {NAMEPLACE} and {NAMEPLACE} offices attended the training on {DATE}.",
    "Payment batch {SORTLIKE} of {MONEY} was reconciled with the bank on {DATE}.",
    "Supplier account {ACCTLIKE} with {COMPANY} was closed in {YEAR}.",
    "The birth registration service in {NAMEPLACE} reopens on {DATE}.",
]
NARRATIVE = [
    "{FIRST} said the situation at home had improved since the last visit on {DATE}.",
    "{OTITLE} raised concerns about rent arrears of {MONEY}.",
    "{AUTHOR} agreed to speak to {OTHER} before {DATE}.",
    "{TNAME} was not at home when {AFIRST} called at {TIME}; a card was left.",
    "{FIRST} would like {OTHER} to attend future meetings as an advocate.",
    "A review is booked for {DATE} at {TIME} with {OTITLE}.",
    "{TNAME} reported that the repair promised by {COMPANY} has still not been done.",
    "{AFIRST} will write to {TNAME} to confirm the outcome.",
]

KINDS = ["letter", "minutes", "email", "case_note", "hr_note"]


def _letter(ctx: _Ctx, b: _Builder) -> None:
    rng = ctx.v.rng
    _fill(ctx, b, "{ORG}\n{DEPT}\n\n")
    _fill(ctx, b, "{TFULL}\n{ADDR}\n{POSTCODE}\n\n{DATE}\n\n")
    _fill(ctx, b, rng.choice(["Dear {TNAME},\n\n", "Dear {FIRST},\n\n"]))
    for pool in rng.sample([IDENTITY, CONTACT, MONEY_SENT, DECOYS, NARRATIVE, DECOYS], 4):
        _fill(ctx, b, rng.choice(pool) + " ")
    _fill(
        ctx,
        b,
        "\n\nIf you have any questions please call {PHONE}.\n\n"
        "Yours sincerely,\n\n{AUTHOR}\n{DEPT}\n",
    )


def _minutes(ctx: _Ctx, b: _Builder) -> None:
    rng = ctx.v.rng
    _fill(ctx, b, "Minutes of the {DEPT} panel, {DATE}, {ROOM}\n")
    _fill(
        ctx,
        b,
        "Present: {AUTHOR} (chair), {OTHER}, {RANDNAME}, {RANDNAME}\nApologies: {RANDNAME}\n\n",
    )
    for i in range(1, rng.randint(4, 6)):
        pool = rng.choice([IDENTITY, CONTACT, NARRATIVE, DECOYS, DECOYS, MONEY_SENT])
        b.add(f"{i}. ")
        _fill(ctx, b, rng.choice(pool) + "\n")
    _fill(ctx, b, "Action: {AFIRST} to follow up with {OTHER} by {DATE}.\n")


def _email(ctx: _Ctx, b: _Builder) -> None:
    rng = ctx.v.rng
    _fill(ctx, b, "From: {AUTHOR} <{AEMAIL}>\nTo: {EMAIL}\nDate: {DATE}\n")
    b.add(
        "Subject: "
        + rng.choice(["Re: your enquiry", "Update", "Referral", "Bank details", "Invoice query"])
        + "\n\n"
    )
    _fill(ctx, b, rng.choice(["Hi {FIRST},\n\n", "Dear {TNAME},\n\n", "Hello,\n\n"]))
    for pool in rng.sample([IDENTITY, CONTACT, MONEY_SENT, DECOYS, NARRATIVE], 3):
        _fill(ctx, b, rng.choice(pool) + " ")
    _fill(ctx, b, "\n\nKind regards,\n{AFIRST}\n{DEPT} | {ORG} | {PHONE}\n")


def _case_note(ctx: _Ctx, b: _Builder) -> None:
    rng = ctx.v.rng
    _fill(ctx, b, "CASE NOTE - {DATE} {TIME}\nWorker: {AUTHOR}\nSubject: {SURFIRST}\n\n")
    for pool in rng.sample([IDENTITY, CONTACT, NARRATIVE, NARRATIVE, DECOYS, MONEY_SENT], 5):
        _fill(ctx, b, rng.choice(pool) + " ")
    _fill(ctx, b, "\nNext contact: {DATE}.\n")


def _hr_note(ctx: _Ctx, b: _Builder) -> None:
    rng = ctx.v.rng
    _fill(ctx, b, "HR record - confidential\nEmployee: {NAME}\nManager: {AUTHOR}\n")
    _fill(ctx, b, "NI number: {NINO}\nDate of birth: {DOB}\nAddress: {ADDR}, {POSTCODE}\n\n")
    for pool in rng.sample([CONTACT, NARRATIVE, DECOYS, MONEY_SENT, IDENTITY], 3):
        _fill(ctx, b, rng.choice(pool) + " ")
    b.add("\n")


_BUILDERS: dict[str, Filler] = {
    "letter": _letter,
    "minutes": _minutes,
    "email": _email,
    "case_note": _case_note,
    "hr_note": _hr_note,
}
ORGS = [
    "Northmoor Borough Council",
    "Hexley Community Health NHS Trust",
    "Brackenford Housing Association",
    "Wendlebury Academy Trust",
    "Carrow Valley Foundation",
]


def generate(n_docs: int = DEFAULT_DOCS, seed: int = DEFAULT_SEED) -> list[ProseDoc]:
    """The corpus: ``n_docs`` documents, the same every time for one seed."""
    rng = random.Random(seed)
    v = Values(rng)
    docs: list[ProseDoc] = []
    for i in range(n_docs):
        kind = KINDS[i % len(KINDS)]
        ctx = _Ctx(v, v.person(), v.person(), v.person(), rng.choice(ORGS))
        b = _Builder()
        _BUILDERS[kind](ctx, b)
        docs.append(ProseDoc(f"prose-{i:05d}", kind, "".join(b.parts), tuple(b.spans)))
    return docs


# --------------------------------------------------------------------------- self-check


def check(docs: list[ProseDoc]) -> None:
    """Re-validate every gold value from the text alone; raise on the first bad one."""
    for doc in docs:
        for s in doc.spans:
            value = doc.text[s.start : s.end]
            compact = value.replace(" ", "").replace("-", "")
            ok = bool(value) and value == value.strip()
            if s.type == "UK_NHS":
                ok = ok and compact.isdigit() and nhs_check_digit(compact[:9]) == int(compact[9])
            elif s.type == "CREDIT_CARD":
                ok = ok and compact.isdigit() and luhn_ok(compact)
            elif s.type == "IBAN_CODE":
                ok = ok and iban_check(compact[:2], compact[4:]) == compact[2:4]
            elif s.type == "UK_POSTCODE":
                ok = ok and POSTCODE_RE.match(value) is not None
            elif s.type == "UK_NINO":
                ok = ok and (
                    compact[0] not in _NINO_BAD_FIRST
                    and compact[1] not in _NINO_BAD_SECOND
                    and compact[:2] not in _NINO_BAD_PREFIX
                    and compact[8] in "ABCD"
                )
            if not ok:
                raise AssertionError(f"{doc.id}: bad gold {s.type} at {s.start}-{s.end}")


def to_json(doc: ProseDoc) -> str:
    return json.dumps(
        {
            "id": doc.id,
            "kind": doc.kind,
            "text": doc.text,
            "spans": [[s.start, s.end, s.type] for s in doc.spans],
        },
        ensure_ascii=False,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("out", type=Path)
    ap.add_argument("--docs", type=int, default=DEFAULT_DOCS)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    docs = generate(args.docs, args.seed)
    check(docs)
    args.out.write_text("".join(to_json(d) + "\n" for d in docs), encoding="utf-8")
    chars = sum(len(d.text) for d in docs)
    counts = Counter(s.type for d in docs for s in d.spans)
    print(f"{len(docs)} documents, {chars:,} characters -> {args.out}", file=sys.stderr)
    for t, n in sorted(counts.items()):
        print(f"  {t:16} {n:6}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
