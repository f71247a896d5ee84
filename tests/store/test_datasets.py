"""Registered datasets in the store, on SQLite and PostgreSQL: register,
refresh, drop, resolve, the index round trip, and no plain value stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine, text

from shareguard.config import get_settings
from shareguard.detect.edm import (
    INDEX_FORMAT,
    Blake2MatchHasher,
    EdmSource,
    Field,
    MatchHasher,
    build_match_keys,
)
from shareguard.detect.scanner import Scanner
from shareguard.keys import ValueHasher
from shareguard.model import Document, Table
from shareguard.store.datasets import DatasetError, DatasetStore, _prepare
from shareguard.store.db import make_engine, upgrade
from shareguard.store.index_reader import IndexReader

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
    refs = {m.dataset: m.ref for m in report.registered_matches() if m.present}
    assert set(refs) == {"hr", "payroll"}
    assert store.resolve([refs["hr"]])[refs["hr"]].key == "QX-40018"
    store.drop("payroll")  # the next scan sees the change
    report = scanner.scan(Document("t.csv", "text/csv", tables=(table,)))
    assert {m.dataset for m in report.registered_matches()} == {"hr"}


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


def _scan_vexworth(store: DatasetStore) -> set[str | None]:
    root = get_settings().secret_key_bytes()
    source = EdmSource(load=store.load_index, signature=store.signature, check_every=0)
    table = Table.from_rows("t", [["Name", "Date of birth"], ["VEXWORTH, Ottoline", "23/09/1984"]])
    report = Scanner(ValueHasher.from_root(root), edm=source).scan(
        Document("t.csv", "text/csv", tables=(table,))
    )
    return {m.ref for m in report.registered_matches() if m.present}


def _set_spec(store: DatasetStore, **changes: object) -> None:
    with store.engine.begin() as conn:
        version_id, spec = conn.execute(text("SELECT id, spec FROM dataset_versions")).one()
        spec = json.loads(spec)
        for k, v in changes.items():
            if v is None:
                spec.pop(k, None)
            else:
                spec[k] = v
        conn.execute(
            text("UPDATE dataset_versions SET spec = :s WHERE id = :v"),
            {"s": json.dumps(spec), "v": version_id},
        )


def test_a_dataset_registered_in_the_old_index_format_still_matches(
    store: DatasetStore,
) -> None:
    """Format 1 (keyed BLAKE2b, no format in the spec) loads and matches,
    hashed the old way, with the same people found; a refresh upgrades it."""
    _register(store)
    with store.engine.connect() as conn:
        spec = json.loads(conn.scalar(text("SELECT spec FROM dataset_versions")))
    assert spec["index_format"] == INDEX_FORMAT
    want = _scan_vexworth(store)
    assert len(want) == 1
    # rewrite the version as the previous release wrote it
    root = get_settings().secret_key_bytes()
    _, fields = _prepare(STAFF, "staff_no", COLUMNS, "force")
    keys, rows, _ = build_match_keys(Blake2MatchHasher.from_root(root), fields)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE dataset_index_parts SET keys = :k, rows = :r"),
            {"k": keys.astype("<u8").tobytes(), "r": rows.astype("<u4").tobytes()},
        )
    _set_spec(store, index_format=None)
    index = store.load_index()
    assert isinstance(index.datasets[0].hasher, Blake2MatchHasher)
    assert _scan_vexworth(store) == want
    store.refresh("hr", STAFF)
    index = store.load_index()
    assert index.datasets[0].hasher is None
    assert isinstance(index.hasher, MatchHasher)
    assert _scan_vexworth(store) == want


def test_an_index_format_from_a_newer_release_is_refused_clearly(store: DatasetStore) -> None:
    _register(store)
    _set_spec(store, index_format=INDEX_FORMAT + 1)
    with pytest.raises(DatasetError, match=r"dataset 'hr' .* newer ShareGuard .* upgrade"):
        store.load_index()


def test_refs_are_read_for_runs_and_scattered_rows(store: DatasetStore) -> None:
    n = 400
    frame = pl.DataFrame(
        {
            "staff_no": [f"QX-{50000 + i}" for i in range(n)],
            "full_name": [f"Person {i} Quillfeather" for i in range(n)],
        }
    )
    store.register("many", frame, key="staff_no", columns={"full_name": "PERSON"})
    hasher = ValueHasher.from_root(get_settings().secret_key_bytes())
    refs = store.load_index().datasets[0].refs
    # a dense run with gaps, scattered rows, repeats and a row that is not there
    wanted = [*range(10, 150), *range(150, 260, 3), 300, 333, 399, 12, 12, n + 5]
    got = refs(wanted)
    assert got == {r: hasher("subject", f"many\x1fQX-{50000 + r}") for r in set(wanted) if r < n}
    assert refs(np.array([7], dtype=np.int64).tolist()) == {
        7: hasher("subject", "many\x1fQX-50007")
    }
    assert refs([]) == {}
    # refs read once are kept: with the store's rows gone, those still come
    # back (with any others still in the store), the rest do not
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM dataset_subjects WHERE row_no >= 350"))
    again = refs([*wanted, 340, 380])
    assert again == {**got, 340: hasher("subject", "many\x1fQX-50340")}
    with store.engine.begin() as conn:  # 340 was read along with kept ones: kept too
        conn.execute(text("DELETE FROM dataset_subjects"))
    assert refs([340, 10]) == {r: again[r] for r in (340, 10)}


def test_the_plain_sqlite_reader_reads_what_the_engine_reads(tmp_path: Path) -> None:
    """Scans on the embedded store read it with sqlite3, read-only; a store
    file that does not exist yet is not created and holds nothing."""
    path = tmp_path / "shareguard.db"
    engine = make_engine(url=f"sqlite:///{path}")
    upgrade(engine)
    root = get_settings().secret_key_bytes()
    store = DatasetStore(engine, root)
    _register(store)
    plain = IndexReader.for_sqlite(path, root)
    assert plain.signature() == store.signature() != ()
    got, want = plain.load().datasets[0], store.load_index().datasets[0]
    assert (got.name, got.version_id, got.fields) == (want.name, want.version_id, want.fields)
    assert np.array_equal(got.keys, want.keys)
    assert np.array_equal(got.rows, want.rows)
    rows = list(range(STAFF.height))
    assert got.refs(rows) == want.refs(rows)
    assert len(got.refs(rows)) == STAFF.height
    engine.dispose()
    missing = tmp_path / "none" / "shareguard.db"
    assert IndexReader.for_sqlite(missing, root).signature() == ()
    assert IndexReader.for_sqlite(missing, root).load().datasets == ()
    assert not missing.exists()


def test_an_index_in_many_parts_is_read_in_slices_as_it_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded store's blobs are read slice by slice into one array:
    parts and slices smaller than a blob, and than each other, lose nothing."""
    import shareguard.store.datasets as datasets_module
    import shareguard.store.index_reader as reader_module

    monkeypatch.setattr(datasets_module, "_PART_ENTRIES", 4)
    monkeypatch.setattr(reader_module, "_BLOB_SLICE", 24)
    path = tmp_path / "shareguard.db"
    engine = make_engine(url=f"sqlite:///{path}")
    upgrade(engine)
    root = get_settings().secret_key_bytes()
    _register(DatasetStore(engine, root))
    with engine.connect() as conn:
        parts = conn.execute(
            text("SELECT keys, rows FROM dataset_index_parts ORDER BY part")
        ).fetchall()
    engine.dispose()
    assert len(parts) > 2
    want_keys = np.concatenate([np.frombuffer(k, "<u8") for k, _ in parts])
    want_rows = np.concatenate([np.frombuffer(r, "<u4") for _, r in parts])
    got = IndexReader.for_sqlite(path, root).load().datasets[0]
    assert got.keys.dtype == np.uint64
    assert got.rows.dtype == np.uint32
    assert np.array_equal(got.keys, want_keys)
    assert np.array_equal(got.rows, want_rows)
    assert (got.keys[1:] >= got.keys[:-1]).all()


def test_the_sqlite_reader_keeps_a_connection_per_thread_and_process(tmp_path: Path) -> None:
    """Reused call after call (a new one reads the whole schema first); not
    shared with another thread or a forked child; dropped when it failed or
    its file was replaced."""
    path = tmp_path / "shareguard.db"
    engine = make_engine(url=f"sqlite:///{path}")
    upgrade(engine)
    root = get_settings().secret_key_bytes()
    _register(DatasetStore(engine, root))
    engine.dispose()
    reader = IndexReader.for_sqlite(path, root)
    with reader.connect() as first:
        pass
    with reader.connect() as again:
        assert again is first
    elsewhere: list[object] = []

    def other_thread() -> None:
        with reader.connect() as conn:
            elsewhere.append(conn)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert elsewhere[0] is not first
    pid = os.fork()
    if pid == 0:  # the child: its own connection, and the store still reads
        with reader.connect() as conn:
            ok = conn is not first and reader.signature() != ()
        os._exit(0 if ok else 1)
    assert os.waitpid(pid, 0)[1] == 0
    with pytest.raises(RuntimeError), reader.connect():
        raise RuntimeError("failed in use")
    with reader.connect() as fresh:
        assert fresh is not first
        assert reader.signature() != ()
    # the store restored from a copy (another file in its place): read anew
    copy = tmp_path / "restored.db"
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)
    with reader.connect() as restored:
        assert restored is not fresh
        assert reader.signature() != ()


def test_an_unreadable_store_is_a_clear_error_not_nothing_registered(tmp_path: Path) -> None:
    """A scan must not carry on as if nobody were registered, nor exit 1 as
    if it had found something, when it cannot read the store."""
    path = tmp_path / "shareguard.db"
    path.write_bytes(b"not a database, " * 512)
    with pytest.raises(DatasetError, match="registered datasets cannot be read"):
        IndexReader.for_sqlite(path, b"k" * 32).signature()
    (tmp_path / "letter.txt").write_text("Dear Ann Jones, thank you.")
    got = subprocess.run(
        [str(Path(sys.executable).with_name("shareguard")), "scan", str(tmp_path / "letter.txt")],
        capture_output=True,
        text=True,
        env={**os.environ, "SHAREGUARD_HOME": str(tmp_path)},
    )
    assert got.returncode == 2, got.stderr
    assert "registered datasets cannot be read" in got.stderr
