"""Build the compact name lexicons shipped in ``shareguard/detect/data``.

Run once by a maintainer, never at scan time::

    uv venv /tmp/nd && VIRTUAL_ENV=/tmp/nd uv pip install names-dataset==3.3.1
    apt-get install wbritish            # SCOWL British English word list
    /tmp/nd/bin/python tools/build_name_lexicon.py \
        --dataset /tmp/nd/lib/python3.11/site-packages/names_dataset/v3

``names-dataset`` (Apache-2.0) ships 55 MB of pickles, too big and slow to
load for every scan.  We keep, for countries well represented in the UK
population, the names ranked within the top N of at least one of them, and
store each name with its best rank (a rough frequency).  The English word list
marks names that are also ordinary words ("Will", "Hope", "Green"), for which
lexicon membership is weak evidence.  Output: gzip text, sorted so that diffs
stay reviewable: for the names one line per rank, ``rank<TAB>name name ...``
(read back with one ``dict.fromkeys`` per line, about twice as fast as a line
per name), and one word per line for the English words.
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import re
import shutil
from pathlib import Path

# Countries of birth / heritage common in the UK population, plus the
# English-speaking countries whose names are common here.
COUNTRIES = (
    "GB IE US CA AU ZA NZ "  # British Isles and anglophone
    "IN BD LK MV "  # South Asia (PK is missing from the dataset; AF, IR cover some names)
    "AF IR "
    "NG GH KE ET SD BW NA AO CM "  # Africa
    "PL RO LT LT EE BG SK CZ HU HR RS SI AL MD RU GE "  # Eastern Europe
    "CN HK TW SG MY PH JP KR ID "  # East / South-east Asia
    "SA AE EG IQ SY JO LB PS YE MA DZ TN LY KW QA OM TR CY "  # Middle East / North Africa
    "IT ES PT FR DE NL BE GR MT JM BR"  # Western Europe, Caribbean, Lusophone
).split()

FIRST_MAX_RANK = 6_000
LAST_MAX_RANK = 6_000
NAME_RE = re.compile(r"^[^\W\d_]{2,}(?:['\-][^\W\d_]+)*$")


def _best_ranks(path: Path, max_rank: int) -> dict[str, int]:
    with gzip.open(path, "rb") as fh:
        data = pickle.load(fh)  # trusted input: the pinned registry package
    out: dict[str, int] = {}
    for name, info in data.items():
        ranks = [r for c, r in info.get("rank", {}).items() if c in COUNTRIES and r is not None]
        if not ranks or not NAME_RE.match(name):
            continue
        best = min(ranks)
        if best <= max_rank:
            key = name.casefold()
            out[key] = min(best, out.get(key, best))
    return out


def _write_ranked(path: Path, names: dict[str, int]) -> None:
    by_rank: dict[int, list[str]] = {}
    for n, r in names.items():
        by_rank.setdefault(r, []).append(n)
    lines = "".join(f"{r}\t{' '.join(sorted(ns))}\n" for r, ns in sorted(by_rank.items()))
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(lines.encode("utf-8"))


def _english_words(path: Path) -> list[str]:
    # Only lower-case entries: capitalised ones in SCOWL are proper nouns.
    words = set()
    for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
        w = line.strip()
        if w and w.islower() and w.isalpha() and "'" not in w:
            words.add(w)
    return sorted(words)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dataset", type=Path, required=True, help="names_dataset/v3 directory")
    ap.add_argument("--words", type=Path, default=Path("/usr/share/dict/british-english"))
    ap.add_argument(
        "--words-copyright", type=Path, default=Path("/usr/share/doc/wbritish/copyright")
    )
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parents[1] / "src/shareguard/detect/data"
    )
    args = ap.parse_args()
    given = _best_ranks(args.dataset / "first_names.pkl.gz", FIRST_MAX_RANK)
    family = _best_ranks(args.dataset / "last_names.pkl.gz", LAST_MAX_RANK)
    _write_ranked(args.out / "names_given.tsv.gz", given)
    _write_ranked(args.out / "names_family.tsv.gz", family)
    words = _english_words(args.words)
    with gzip.GzipFile(args.out / "names_english_words.txt.gz", "wb", mtime=0) as fh:
        fh.write("".join(w + "\n" for w in words).encode("utf-8"))
    # SCOWL's notices (including WordNet's) must travel with any copy.
    shutil.copyfile(args.words_copyright, args.out / "names_english_words_COPYRIGHT.txt")
    print(f"given {len(given)}, family {len(family)}, english words {len(words)}")


if __name__ == "__main__":
    main()
