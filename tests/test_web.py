from __future__ import annotations

from fastapi.testclient import TestClient

from shareguard.config import Settings, get_settings
from shareguard.web.app import create_app


def _client(settings: Settings | None = None) -> TestClient:
    """A client of the machine API with a sender's bearer token."""
    app = create_app(settings or get_settings())
    users = app.state.portal.users
    users.add("hr@council.example", "sender", None)
    token = users.issue_token("hr@council.example", "tests")
    return TestClient(app, headers={"authorization": f"Bearer {token}"})


def test_healthz() -> None:
    r = _client().get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_scan_returns_the_cli_json_shape() -> None:
    body = b"Patient: Grace Okafor, NHS number 943 476 5919, DOB 14/02/1961\n"
    r = _client().post("/v1/scan", files=[("file", ("note.txt", body, "text/plain"))])
    assert r.status_code == 200
    doc = r.json()
    assert doc["summary"]["files"] == 1
    f = doc["files"][0]
    assert f["path"] == "note.txt"
    assert f["entities"]["UK_NHS"] == 1
    assert "943 476 5919" not in r.text


def test_oversized_upload_is_uninspectable_not_clean() -> None:
    settings = get_settings().model_copy(
        update={"limits": get_settings().limits.model_copy(update={"max_file_bytes": 100})}
    )
    r = _client(settings).post("/v1/scan", files=[("file", ("big.txt", b"x" * 1000, "text/plain"))])
    assert r.status_code == 200
    assert r.json()["files"][0]["uninspectable"]
    assert r.json()["summary"]["uninspectable"] == 1
