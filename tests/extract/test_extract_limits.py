"""Bad input: encrypted, corrupt, truncated, bombs, depth, parts, size."""

from __future__ import annotations

import gzip
import os
import tracemalloc
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest
from extract_builders import (
    build_cfb,
    build_docx,
    build_pdf,
    build_scanned_pdf,
    build_xlsx,
    build_zip,
)

from shareguard.config import Limits
from shareguard.extract import extract_bytes, extract_path

LIMITS = Limits()
MiB = 1024 * 1024


def test_encrypted_zip_member() -> None:
    data = bytearray(build_zip({"secret.csv": b"a,b\n1,2\n", "open.txt": b"hello"}))
    # zipfile cannot encrypt, so set the encryption flag on the first member by hand.
    data[6] |= 0x1
    cd = data.find(b"PK\x01\x02")
    data[cd + 8] |= 0x1
    doc = extract_bytes(bytes(data), "b.zip", LIMITS)
    secret, opened = doc.parts
    assert secret.path == "b.zip!secret.csv"
    assert secret.uninspectable == "encrypted archive member (password-protected)"
    assert opened.text == "hello"
    assert opened.uninspectable is None


def test_encrypted_pdf_and_ooxml() -> None:
    pdf = extract_bytes(build_pdf(["Ada"], encrypt="secret"), "e.pdf", LIMITS)
    assert pdf.uninspectable == "password-protected PDF"
    ole = build_cfb({"EncryptionInfo": b"\x04\x00" * 8, "EncryptedPackage": b"\x01" * 5000})
    doc = extract_bytes(ole, "e.xlsx", LIMITS)
    assert doc.uninspectable == "password-protected Office document"


def test_scanned_pdf() -> None:
    doc = extract_bytes(build_scanned_pdf(), "scan.pdf", LIMITS)
    assert doc.uninspectable == "scanned PDF without a text layer"


@pytest.mark.parametrize(
    "build",
    [build_docx, build_xlsx, lambda: build_pdf(["Ada Test"]), lambda: build_zip({"a": b"x" * 100})],
)
def test_truncated_and_corrupt(build: object) -> None:
    data = build()  # type: ignore[operator]
    for bad in (data[: len(data) // 2], data[:40], data[:8] + b"\xff" * (len(data) - 8)):
        doc = extract_bytes(bad, "x", LIMITS)
        assert doc.path == "x"
        problems = [d.uninspectable for d in doc.walk() if d.uninspectable]
        assert problems, "damaged file must not look clean"


def test_corrupt_reason_names_the_format() -> None:
    data = build_pdf(["Ada"])
    doc = extract_bytes(data[:30], "x.pdf", LIMITS)
    assert doc.uninspectable == "corrupt or truncated PDF"


def test_zip_bomb_by_ratio() -> None:
    data = build_zip({"zeros.bin": b"\0" * (20 * MiB)})
    doc = extract_bytes(data, "bomb.zip", LIMITS)
    (part,) = doc.parts
    assert part.uninspectable is not None
    assert "compression ratio" in part.uninspectable


def test_zip_bomb_by_size_and_budget() -> None:
    data = build_zip({"a.txt": b"x" * 5000, "b.txt": b"y" * 5000})
    small = extract_bytes(data, "z.zip", Limits(max_file_bytes=4000))
    assert all("over the limit" in (p.uninspectable or "") for p in small.parts)
    budget = extract_bytes(data, "z.zip", Limits(max_total_expanded_bytes=8000))
    first, second = budget.parts
    assert first.uninspectable is None
    assert second.uninspectable is not None
    assert "expanded content" in second.uninspectable


def test_zip_with_lying_declared_size() -> None:
    data = bytearray(build_zip({"a.txt": b"z" * 100_000}))
    # Shrink the declared size in the central directory: the reader must not trust it.
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    doc = extract_bytes(bytes(data), "lie.zip", LIMITS)
    assert any(d.uninspectable for d in doc.walk())


def test_gzip_bomb_memory_bounded() -> None:
    bomb = gzip.compress(b"\0" * (64 * MiB), compresslevel=9)
    tracemalloc.start()
    doc = extract_bytes(bomb, "bomb.gz", LIMITS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "compression ratio" in (doc.parts[0].uninspectable or "")
    assert peak < 16 * MiB


def test_too_deep() -> None:
    data = b"hello"
    for i in range(5):
        data = build_zip({f"level{i}.zip" if i else "leaf.txt": data})
    doc = extract_bytes(data, "top.zip", Limits(max_depth=2))
    deepest = [d for d in doc.walk() if d.uninspectable]
    assert deepest
    assert deepest[0].uninspectable == "nested more than 2 levels deep"
    assert deepest[0].path.count("!") == 3


def test_too_many_parts() -> None:
    data = build_zip({f"f{i}.txt": b"hi" for i in range(20)})
    doc = extract_bytes(data, "many.zip", Limits(max_parts=5))
    assert len(doc.parts) == 5
    assert doc.uninspectable == "more than 5 nested parts; the rest were not inspected"


def test_text_over_limit_is_truncated_and_flagged() -> None:
    doc = extract_bytes(b"word " * 1000, "t.txt", Limits(max_text_chars=100))
    assert len(doc.text) == 100
    assert doc.uninspectable == "only the first 100 characters were inspected"
    assert doc.segments[-1].end == 100


def test_top_level_file_over_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"\x89PNG" + b"\0" * 5000)
    doc = extract_path(path, Limits(max_file_bytes=1000))
    assert doc.path == str(path)
    assert doc.uninspectable is not None
    assert "over the limit" in doc.uninspectable


def test_streamed_csv_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = b"Ada Lovelace-Test,QQ123456C,1985-12-10,07700 900123,a note about nothing\n"
    block = line * (MiB // len(line))
    with open(path, "wb") as fh:
        for _ in range(60):
            fh.write(block)
    proc = psutil.Process(os.getpid())
    before = proc.memory_info().rss
    doc = extract_path(path, LIMITS)
    rows = sum(1 for _ in doc.tables[0].iter_rows())
    grown = proc.memory_info().rss - before
    assert rows == 60 * (MiB // len(line))
    assert grown < 40 * MiB
