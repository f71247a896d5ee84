"""Registered datasets in the store, on SQLite and PostgreSQL: register,
refresh, drop, resolve, the index round trip, and no plain value stored."""

from __future__ import annotations

import subprocess

import polars as pl
import pytest
from sqlalchemy import Engine, text

from shareguard.config import get_settings
from shareguard.detect.edm import EdmSource, Field
from shareguard.detect.scanner import Scanner
from shareguard.keys import ValueHasher
from shareguard.model import Document, Table
from shareguard.store.datasets import DatasetError, DatasetStore

# Made-up staff.
STAFF = pl.DataFrame(
    {
        "staff_no": ["QX-40017", "QX-40018", "QX-40019"],
        "full_name": ["Quentin Zabriskie", "Ottoline Vexworth", "Barnaby Quillfeather"],
        "dob": ["1961-04-23", "23/09/1984", "1977-11-02"],
        "ni": ["AB 12 34 56 C", "CE654321A", "JG111222B"],
        "email": ["q.zabriskie@example.org", "o.vexworth@example.org", "b.quill@example.org"],
        "force": ["Northmoor", "Northmoor", "Eastdale"],
    }
)
COLUMNS = {"full_name": "PERSON", "dob": "DATE_OF_BIRTH", "ni": "UK_NINO", "email": "EMAIL_ADDRESS"}
SEEDS = [
    "QX-40017",
    "QX40017",
    "Zabriskie",
    "ZABRISKIE",
    "zabriskie",
    "AB123456C",
    "AB 12 34 56 C",
    "Vexworth",
    "q.zabriskie@example.org",
    "Northmoor",
    "Eastdale",
    "1961-04-23",
]


@pytest.fixture
def store(engine: Engine) -> DatasetStore:
    # the shared PostgreSQL database is emptied of other tables only
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM datasets"))
    return DatasetStore(engine, get_settings().secret_key_bytes())


def _register(store: DatasetStore, name: str = "hr") -> None:
    store.register(
        name, STAFF, key="staff_no", columns=COLUMNS, group="force", by="dpo@example.org"
    )


def test_register_show_list(store: DatasetStore) -> None:
    _register(store)
    info = store.show("hr")
    assert (info.version, info.rows, info.key, info.group) == (1, 3, "staff_no", "force")
    assert (info.columns["staff_no"], info.columns["ni"]) == ("KEY", "UK_NINO")
    assert set(info.fields) == {"KEY", "UK_NINO", "EMAIL_ADDRESS", "PERSON", "PERSON_DOB"}
    assert [i.name for i in store.list()] == ["hr"]


def test_refs_resolve_to_decrypted_keys_and_groups(store: DatasetStore) -> None:
    _register(store)
    hasher = ValueHasher.from_root(get_settings().secret_key_bytes())
    ref = hasher("subject", "hr\x1fQX-40018")
    got = store.resolve([ref, "hk1:" + "0" * 32])
    assert list(got) == [ref]
    assert (got[ref].dataset, got[ref].key, got[ref].group) == ("hr", "QX-40018", "Northmoor")


def test_refresh_replaces_the_version_and_keeps_refs(store: DatasetStore) -> None:
    _register(store)
    before = store.signature()
    ref = ValueHasher.from_root(get_settings().secret_key_bytes())("subject", "hr\x1fQX-40019")
    smaller = STAFF.filter(pl.col("staff_no") != "QX-40017")
    info = store.refresh("hr", smaller, by="dpo@example.org")
    assert (info.version, info.rows) == (2, 2)
    assert store.signature() != before
    assert store.resolve([ref])[ref].key == "QX-40019"
    gone = ValueHasher.from_root(get_settings().secret_key_bytes())("subject", "hr\x1fQX-40017")
    assert store.resolve([gone]) == {}
    with store.engine.connect() as conn:  # the old version's rows went with it
        assert conn.scalar(text("SELECT count(*) FROM dataset_subjects")) == 2
        assert conn.scalar(text("SELECT count(*) FROM dataset_versions")) == 1


def test_bad_input_is_refused_with_the_row(store: DatasetStore) -> None:
    dup = pl.concat([STAFF, STAFF.head(1)])
    with pytest.raises(DatasetError, match=r"row 5: .*repeats"):
        store.register("hr", dup, key="staff_no", columns=COLUMNS)
    with pytest.raises(DatasetError, match="no column 'nope'"):
        store.register("hr", STAFF, key="nope", columns=COLUMNS)
    with pytest.raises(DatasetError, match="unknown type"):
        store.register("hr", STAFF, key="staff_no", columns={"ni": "SHOE_SIZE"})
    assert store.list() == []  # nothing half-written
    _register(store)
    with pytest.raises(DatasetError, match="already registered"):
        _register(store)


def test_drop(store: DatasetStore) -> None:
    _register(store)
    store.drop("hr")
    assert store.list() == []
    assert store.signature() == ()
    with pytest.raises(DatasetError):
        store.drop("hr")


def test_loaded_index_matches_in_a_scan(store: DatasetStore) -> None:
    _register(store)
    _register(store, "payroll")
    index = store.load_index()
    assert [d.name for d in index.datasets] == ["hr", "payroll"]
    assert index.datasets[0].fields >= {Field.KEY, Field.UK_NINO}
    root = get_settings().secret_key_bytes()
    source = EdmSource(load=store.load_index, signature=store.signature, check_every=0)
    scanner = Scanner(ValueHasher.from_root(root), edm=source)
    rows = [
        ["Name", "Date of birth"],
        ["VEXWORTH, Ottoline", "23/09/1984"],
        ["Ann Lee", "01/02/1990"],
    ]
    table = Table.from_rows("t", rows)
    report = scanner.scan(Document("t.csv", "text/csv", tables=(table,)))
    refs = {m.dataset: m.ref for m in report.registered if m.present}
    assert set(refs) == {"hr", "payroll"}
    assert store.resolve([refs["hr"]])[refs["hr"]].key == "QX-40018"
    store.drop("payroll")  # the next scan sees the change
    report = scanner.scan(Document("t.csv", "text/csv", tables=(table,)))
    assert {m.dataset for m in report.registered} == {"hr"}


def test_no_plain_value_in_the_store(store: DatasetStore, engine: Engine) -> None:
    _register(store)
    store.refresh("hr", STAFF)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = engine.url.database
        assert path is not None
        with open(path, "rb") as f:
            blob = f.read()
    else:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        blob = subprocess.run(
            ["pg_dump", "--data-only", "--table=dataset*", url], check=True, capture_output=True
        ).stdout
        assert b"COPY public.dataset_subjects" in blob  # the dump did read the tables
    for seed in SEEDS:
        assert seed.encode() not in blob, seed
        assert seed.encode("utf-16-le") not in blob, seed
