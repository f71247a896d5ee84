"""Whatever the bytes, extraction returns a Document and never raises."""

from __future__ import annotations

from extract_builders import (
    build_docx,
    build_eml,
    build_msg,
    build_pdf,
    build_pptx,
    build_xlsx,
    build_zip,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.config import Limits
from shareguard.extract import extract_bytes
from shareguard.model import Document

LIMITS = Limits(max_seconds_per_part=5.0)


SEEDS: tuple[bytes, ...] = (
    build_docx(),
    build_xlsx(),
    build_pptx(),
    build_pdf(["Ada Test", "page two"]),
    build_zip({"a/b.csv": b"name,nino\nAda,QQ123456C\n", "c.zip": build_zip({"d.txt": b"x"})}),
    build_eml(attachments={"x.csv": b"a,b\n1,2\n"}).as_bytes(),
    b"name;phone\nAda;07700 900123\nBob;07700 900456\n",
    build_msg(("n.txt", b"hello")),
)


def check(data: bytes) -> None:
    doc = extract_bytes(data, "fuzz", LIMITS)
    assert isinstance(doc, Document)
    assert doc.path == "fuzz"
    for part in doc.walk():
        for table in part.tables:
            for row in table.iter_rows():
                assert all(isinstance(c, str) for c in row)
        assert len(part.text) <= LIMITS.max_text_chars


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048).map(lambda b: b"PK\x03\x04" + b))
def test_random_after_zip_magic(data: bytes) -> None:
    check(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_valid_files(data: bytes) -> None:
    check(data)
