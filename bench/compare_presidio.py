"""ShareGuard against Microsoft Presidio, side by side, on the same texts.

    uv run --frozen python bench/compare_presidio.py [--corpus DIR] [--docs N]

(``make bench-presidio`` first builds Presidio's own venv,
``bench/.venv-presidio``; see bench/README.md.)  Presidio never enters this
process: both systems run in :mod:`presidio_runner` subprocesses -- ShareGuard
with this interpreter, Presidio with the venv's -- so that timing and peak RSS
are measured the same way for both.

Texts: (b) the labelled prose set of :mod:`prose_corpus` (gold spans), scored
per entity: a detection is correct when it overlaps a gold span of the same
type (and, for the exact-match figures, when it has the same offsets);
(a) the prose and table parts of the development corpus from
``../shared/eval`` (tables rendered as one line per row, cells joined with
" | "), scored from counts per part and type: TP = min(found, gold).

Prints a table; writes bench/results/presidio_comparison.json and
bench/results/presidio_comparison.png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import prose_corpus
from accuracy import ensure_corpus

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
RUNNER = HERE / "presidio_runner.py"
PRESIDIO_PY = HERE / ".venv-presidio" / "bin" / "python"

# Presidio entity -> ours.  Anything Presidio reports under another name (URL,
# NRP, ORGANIZATION, US_*, UK_PASSPORT, ...) has no gold here and is ignored,
# as are our own types outside this list.
PRESIDIO_TO_OURS: dict[str, str] = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "LOCATION": "STREET_ADDRESS",
    "UK_NINO": "UK_NINO",
    "UK_NHS": "UK_NHS",
    "UK_POSTCODE": "UK_POSTCODE",
    "IBAN_CODE": "IBAN_CODE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IP_ADDRESS": "IP_ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
}
SHARED_TYPES: tuple[str, ...] = tuple(PRESIDIO_TO_OURS.values())
OURS_ONLY: tuple[str, ...] = ("UK_BANK_ACCOUNT",)
CHECK_RULE_TYPES = ("UK_NINO", "UK_NHS", "IBAN_CODE", "CREDIT_CARD", "UK_BANK_ACCOUNT")
SYSTEMS = ("shareguard", "presidio")
PRESIDIO_THRESHOLDS = (0.0, 0.3, 0.5, 0.7)


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    type: str
    score: float = 1.0


@dataclass
class Tally:
    pred: int = 0
    pred_ok: int = 0
    gold: int = 0
    gold_found: int = 0

    def add(self, other: Tally) -> None:
        self.pred += other.pred
        self.pred_ok += other.pred_ok
        self.gold += other.gold
        self.gold_found += other.gold_found

    def scores(self) -> dict[str, float | int]:
        p = self.pred_ok / self.pred if self.pred else 1.0
        r = self.gold_found / self.gold if self.gold else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "predicted": self.pred,
            "gold": self.gold,
            "fp": self.pred - self.pred_ok,
            "fn": self.gold - self.gold_found,
        }


# --------------------------------------------------------------------------- texts


dev_corpus = ensure_corpus  # the same generated corpus as bench/accuracy.py


def render_rows(rows: Iterable[Sequence[str]]) -> str:
    return "\n".join(" | ".join(cell.strip() for cell in row) for row in rows)


def dev_texts(corpus: Path) -> dict[str, str]:
    """Text of each development-corpus part that has a truth entry."""
    from shareguard.config import Limits
    from shareguard.extract import extract_path
    from shareguard.model import Document

    truth = json.loads((corpus / "truth.json").read_text())["files"]
    texts: dict[str, str] = {}

    def walk(doc: Document, top: Path) -> Iterator[tuple[str, Document]]:
        yield "files/" + top.name + doc.path[len(str(top)) :], doc
        for part in doc.parts:
            yield from walk(part, top)

    for top in sorted((corpus / "files").iterdir()):
        for key, doc in walk(extract_path(top, Limits()), top):
            if key not in truth or not (doc.text.strip() or doc.tables):
                continue
            pieces = [doc.text] + [render_rows(t.iter_rows()) for t in doc.tables]
            texts[key] = "\n".join(p for p in pieces if p.strip())
    return texts


# --------------------------------------------------------------------------- running


def run_engine(python: Path | str, engine: str, docs: list[dict[str, str]], workers: int) -> Any:
    with tempfile.TemporaryDirectory(prefix="sg-presidio-") as tmp:
        inp, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.json"
        inp.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        cmd = [str(python), str(RUNNER), "analyze", "--engine", engine]
        subprocess.run([*cmd, "--workers", str(workers), str(inp), str(out)], check=True)
        return json.loads(out.read_text())


def spans_of(raw: list[list[Any]], system: str, threshold: float = 0.0) -> list[Span]:
    out = []
    for start, end, etype, score in raw:
        if system == "presidio":
            if score < threshold or etype not in PRESIDIO_TO_OURS:
                continue
            etype = PRESIDIO_TO_OURS[etype]
        elif etype not in SHARED_TYPES and etype not in OURS_ONLY:
            continue
        out.append(Span(start, end, etype, score))
    return out


# --------------------------------------------------------------------------- scoring


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _same(a: Span, b: Span) -> bool:
    return a.start == b.start and a.end == b.end


def score_doc(pred: list[Span], gold: list[Span], exact: bool) -> dict[str, Tally]:
    match = _same if exact else _overlaps
    tallies: dict[str, Tally] = defaultdict(Tally)
    for p in pred:
        t = tallies[p.type]
        t.pred += 1
        t.pred_ok += any(g.type == p.type and match(p, g) for g in gold)
    for g in gold:
        t = tallies[g.type]
        t.gold += 1
        t.gold_found += any(p.type == g.type and match(p, g) for p in pred)
    return tallies


def summarise(per_type: dict[str, Tally], types: Sequence[str]) -> dict[str, Any]:
    micro = Tally()
    for t in types:
        micro.add(per_type.get(t, Tally()))
    f1s = [per_type.get(t, Tally()).scores()["f1"] for t in types]
    return {"micro": micro.scores(), "macro_f1": round(sum(f1s) / len(f1s), 4)}


def score_prose(
    docs: list[prose_corpus.ProseDoc], preds: dict[str, dict[str, list[Span]]], exact: bool
) -> dict[str, Any]:
    totals: dict[str, dict[str, Tally]] = {s: defaultdict(Tally) for s in SYSTEMS}
    for doc in docs:
        gold = [Span(g.start, g.end, g.type) for g in doc.spans]
        for system in SYSTEMS:
            for etype, tally in score_doc(preds[system][doc.id], gold, exact).items():
                totals[system][etype].add(tally)
    per_type: dict[str, dict[str, Any]] = {}
    for etype in (*SHARED_TYPES, *OURS_ONLY):
        per_type[etype] = {
            "shareguard": totals["shareguard"][etype].scores(),
            "presidio": None if etype in OURS_ONLY else totals["presidio"][etype].scores(),
        }
    overall = {s: summarise(totals[s], SHARED_TYPES) for s in SYSTEMS}
    return {"per_type": per_type, "overall": overall}


def score_dev(
    texts: dict[str, str], truth: dict[str, Any], preds: dict[str, dict[str, list[Span]]]
) -> dict[str, Any]:
    gold_types = sorted({t for key in texts for t in truth[key]["entities"]} | {"PERSON"})
    totals: dict[str, dict[str, Tally]] = {s: defaultdict(Tally) for s in SYSTEMS}
    for key in texts:
        gold = Counter(truth[key]["entities"])
        for system in SYSTEMS:
            found = Counter(s.type for s in preds[system][key])
            for etype in gold_types:
                tp = min(found[etype], gold[etype])
                totals[system][etype].add(Tally(found[etype], tp, gold[etype], tp))
    return {
        "per_type": {t: {s: totals[s][t].scores() for s in SYSTEMS} for t in gold_types},
        "overall": {s: summarise(totals[s], gold_types) for s in SYSTEMS},
    }


def errors(
    docs: list[prose_corpus.ProseDoc], preds: dict[str, list[Span]], per_type: int = 8
) -> dict[str, dict[str, list[str]]]:
    """Examples of false positives and misses, as ``...before [[value]] after...``."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"fp": [], "fn": []})

    def snippet(text: str, s: Span) -> str:
        before = text[max(0, s.start - 40) : s.start].replace("\n", " ")
        after = text[s.end : s.end + 25].replace("\n", " ")
        return f"...{before}[[{text[s.start : s.end]}]]{after}..."

    for doc in docs:
        gold = [Span(g.start, g.end, g.type) for g in doc.spans]
        pred = preds[doc.id]
        for p in pred:
            bucket = out[p.type]["fp"]
            if len(bucket) < per_type and not any(
                g.type == p.type and _overlaps(p, g) for g in gold
            ):
                wrong = next((g.type for g in gold if _overlaps(p, g)), "no gold")
                bucket.append(f"{snippet(doc.text, p)} (gold: {wrong})")
        for g in gold:
            bucket = out[g.type]["fn"]
            if len(bucket) < per_type and not any(
                p.type == g.type and _overlaps(p, g) for p in pred
            ):
                got = next((p.type for p in pred if _overlaps(p, g)), "nothing")
                bucket.append(f"{snippet(doc.text, g)} (found: {got})")
    return dict(out)


# --------------------------------------------------------------------------- throughput


def throughput(run1: Any, run2: Any) -> dict[str, Any]:
    return {
        "1": {
            "chars": run1["chars"],
            "seconds": round(run1["analyze_s"], 3),
            "chars_per_s": round(run1["chars"] / run1["analyze_s"]),
            "chars_per_s_with_load": round(run1["chars"] / run1["wall_s"]),
            "load_s": round(max(run1["load_s"]), 2),
            "peak_rss_mb": round(max(run1["peak_rss_mb"]), 1),
        },
        "2": {
            "chars": run2["chars"],
            "seconds": round(run2["analyze_s"], 3),
            "chars_per_s": round(run2["chars"] / run2["analyze_s"]),
            "chars_per_s_with_load": round(run2["chars"] / run2["wall_s"]),
            "load_s": round(max(run2["load_s"]), 2),
            "peak_rss_mb": [round(x, 1) for x in run2["peak_rss_mb"]],
        },
        # The two runs must find the same spans: a check on the harness.
        "workers_agree": run1["spans"] == run2["spans"],
    }


# --------------------------------------------------------------------------- report


def targets(prose: dict[str, Any], tp: dict[str, Any]) -> dict[str, Any]:
    ours, theirs = prose["overall"]["shareguard"], prose["overall"]["presidio"]
    below = {
        t: round(v["presidio"]["f1"] - v["shareguard"]["f1"], 4)
        for t, v in prose["per_type"].items()
        if v["presidio"] is not None and v["shareguard"]["f1"] < v["presidio"]["f1"] - 0.02
    }
    low_precision = {
        t: prose["per_type"][t]["shareguard"]["precision"]
        for t in CHECK_RULE_TYPES
        if prose["per_type"][t]["shareguard"]["precision"] < 0.98
    }
    ratio = tp["shareguard"]["1"]["chars_per_s"] / tp["presidio"]["1"]["chars_per_s"]
    return {
        "overall_f1_margin": round(ours["micro"]["f1"] - theirs["micro"]["f1"], 4),
        "overall_f1_ok": ours["micro"]["f1"] >= theirs["micro"]["f1"] + 0.05,
        "types_more_than_0.02_below_presidio": below,
        "check_rule_precision_below_0.98": low_precision,
        "throughput_ratio_single_process": round(ratio, 1),
        "throughput_ok": ratio >= 10,
    }


def _row(name: str, cells: Sequence[str]) -> str:
    return f"{name:18}" + "".join(f"{c:>22}" for c in cells)


def print_tables(result: dict[str, Any]) -> None:
    head = _row("type", ["ShareGuard P/R/F1", "Presidio P/R/F1", "exact F1 SG / Pr"])
    prose, exact = result["prose"]["overlap"], result["prose"]["exact"]

    def prf(s: dict[str, Any] | None) -> str:
        return "n/a" if s is None else f"{s['precision']:.2f}/{s['recall']:.2f}/{s['f1']:.3f}"

    def ef(t: str, s: str) -> str:
        v = exact["per_type"][t][s]
        return "n/a" if v is None else f"{v['f1']:.3f}"

    print(
        f"\n(b) labelled prose: {result['prose']['docs']} docs, {result['prose']['chars']:,} chars"
    )
    print(head)
    for t, v in prose["per_type"].items():
        ex = f"{ef(t, 'shareguard')} / {ef(t, 'presidio')}"
        print(_row(t, [prf(v["shareguard"]), prf(v["presidio"]), ex]))
    o, oe = prose["overall"], exact["overall"]
    ex = f"{oe['shareguard']['micro']['f1']:.3f} / {oe['presidio']['micro']['f1']:.3f}"
    print(_row("overall (micro)", [prf(o["shareguard"]["micro"]), prf(o["presidio"]["micro"]), ex]))
    mac = f"{o['shareguard']['macro_f1']:.3f} / {o['presidio']['macro_f1']:.3f}"
    print(_row("macro F1 SG / Pr", ["", "", mac]))

    dev = result["dev"]
    print(f"\n(a) development corpus parts (counts): {dev['parts']} parts, {dev['chars']:,} chars")
    print(_row("type", ["ShareGuard P/R/F1", "Presidio P/R/F1"]))
    for t, v in dev["per_type"].items():
        print(_row(t, [prf(v["shareguard"]), prf(v["presidio"])]))
    d = dev["overall"]
    print(_row("overall (micro)", [prf(d["shareguard"]["micro"]), prf(d["presidio"]["micro"])]))

    print("\nthroughput on (b)")
    print(_row("", ["ShareGuard", "Presidio"]))
    tp = result["throughput"]
    print(_row("1 and 2 agree", [str(tp[s]["workers_agree"]) for s in SYSTEMS]))
    for label, k, f in (
        ("1 proc chars/s", "1", "chars_per_s"),
        ("  incl. load", "1", "chars_per_s_with_load"),
        ("2 workers chars/s", "2", "chars_per_s"),
        ("  incl. load", "2", "chars_per_s_with_load"),
        ("load s", "1", "load_s"),
        ("peak RSS MB (1)", "1", "peak_rss_mb"),
        ("peak RSS MB (2)", "2", "peak_rss_mb"),
    ):
        print(_row(label, [str(tp[s][k][f]) for s in SYSTEMS]))
    sweep = result["presidio_threshold_sweep"]
    print(
        "\nPresidio overall F1 (b) by score threshold: "
        + ", ".join(f"{k}: {v}" for k, v in sweep.items())
    )
    print("\ntargets: " + json.dumps(result["targets"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="ShareGuard vs Presidio")
    ap.add_argument("--corpus", type=Path, help="development corpus already generated")
    ap.add_argument("--docs", type=int, default=prose_corpus.DEFAULT_DOCS)
    ap.add_argument("--seed", type=int, default=prose_corpus.DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=RESULTS / "presidio_comparison.json")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    if not PRESIDIO_PY.exists():
        sys.exit(f"{PRESIDIO_PY} missing: run `make bench-presidio` (it builds the venv)")

    prose = prose_corpus.generate(args.docs, args.seed)
    prose_corpus.check(prose)
    corpus = dev_corpus(args.corpus)
    truth = json.loads((corpus / "truth.json").read_text())["files"]
    dev = dev_texts(corpus)
    prose_docs = [{"id": d.id, "set": "prose", "text": d.text} for d in prose]
    dev_docs = [{"id": k, "set": "dev", "text": t} for k, t in dev.items()]
    prose_ids = {d.id for d in prose}

    # Timing and RSS come from the prose runs only; the development corpus
    # (large table texts) is analysed in a run of its own.
    runs: dict[str, dict[str, Any]] = {}
    for system, python in (("shareguard", sys.executable), ("presidio", PRESIDIO_PY)):
        runs[system] = {
            "1": run_engine(python, system, prose_docs, 1),
            "2": run_engine(python, system, prose_docs, 2),
            "dev": run_engine(python, system, dev_docs, 1),
        }

    raw = {s: {**runs[s]["1"]["spans"], **runs[s]["dev"]["spans"]} for s in SYSTEMS}
    preds = {s: {i: spans_of(raw[s][i], s) for i in raw[s]} for s in SYSTEMS}
    sweep = {}
    for th in PRESIDIO_THRESHOLDS:
        p_th = {i: spans_of(raw["presidio"][i], "presidio", th) for i in prose_ids}
        scored = score_prose(prose, {"shareguard": preds["shareguard"], "presidio": p_th}, False)
        sweep[str(th)] = scored["overall"]["presidio"]["micro"]["f1"]
    overlap = score_prose(prose, preds, exact=False)
    tp = {s: throughput(runs[s]["1"], runs[s]["2"]) for s in SYSTEMS}
    result: dict[str, Any] = {
        "mapping_presidio_to_shareguard": PRESIDIO_TO_OURS,
        "prose": {
            "docs": len(prose),
            "chars": sum(len(d.text) for d in prose),
            "seed": args.seed,
            "overlap": overlap,
            "exact": score_prose(prose, preds, exact=True),
        },
        "dev": {
            "parts": len(dev),
            "chars": sum(len(t) for t in dev.values()),
            **score_dev(dev, truth, preds),
        },
        "throughput": tp,
        "presidio_threshold_sweep": sweep,
        "targets": targets(overlap, tp),
        "errors": {s: errors(prose, preds[s]) for s in SYSTEMS},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print_tables(result)
    print(f"\nwrote {args.out}")
    if not args.no_plot:
        png = args.out.with_suffix(".png")
        subprocess.run([str(PRESIDIO_PY), str(RUNNER), "plot", str(args.out), str(png)], check=True)
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
