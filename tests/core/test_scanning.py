"""The virus scanner (R21): clamd over INSTREAM, failing closed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from django.core.checks import run_checks
from pytest_django.fixtures import Settings

from personvern.config import ConfigurationError, load_config
from personvern.core.scanning import (
    CHUNK_BYTES,
    ScanStatus,
    Verdict,
    parse_clamd_url,
    parse_reply,
    scan,
)
from tests.scanning import SIGNATURE, eicar

pytestmark = pytest.mark.req("R21")


def test_clean_content_is_clean(clamd: str) -> None:
    result = scan(b"Hei, her er CV-en min.\n", name="cv.txt")
    assert result.verdict == Verdict.CLEAN and result.clean
    assert result.status == ScanStatus.CLEAN


def test_the_eicar_test_file_is_infected_and_named(clamd: str) -> None:
    result = scan(eicar(), name="eicar.txt")
    assert result.verdict == Verdict.INFECTED and not result.clean
    assert result.signature.startswith(SIGNATURE)


def test_malware_after_many_chunks_is_found(clamd: str) -> None:
    content = b"%PDF-1.7\n" + b"a" * (3 * CHUNK_BYTES + 17) + eicar()
    assert scan(content, name="big.pdf").verdict == Verdict.INFECTED
    assert scan(content[: -len(eicar())], name="big.pdf").verdict == Verdict.CLEAN


@pytest.mark.req("R21")
def test_what_clamd_cannot_fully_scan_is_never_clean(clamd: str) -> None:
    # Malware buried deeper than clamd's recursion limit: with the settings
    # docs/operations.md requires (AlertExceedsMax), clamd says so instead of "OK".
    import io
    import zipfile

    content = eicar()
    for depth in range(20):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"lag{depth}.zip" if depth else "eicar.txt", content)
        content = buffer.getvalue()
    result = scan(content, name="arkiv.zip")
    assert result.verdict == Verdict.INFECTED and not result.clean
    assert "Limits" in result.signature or result.signature.startswith(SIGNATURE)


def test_clamd_over_tcp(clamd_url: str, settings: Settings) -> None:
    """A TCP address works too: a relay from a local port to the test daemon's socket."""
    import threading

    path = clamd_url.removeprefix("unix://")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def relay() -> None:
        conn, _ = listener.accept()
        with conn, socket.socket(socket.AF_UNIX) as upstream:
            upstream.connect(path)
            data = b""
            while not data.endswith(b"\0\0\0\0"):
                data += conn.recv(65536)
            upstream.sendall(data)
            conn.sendall(upstream.recv(4096))

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    settings.PERSONVERN_CLAMD_URL = f"tcp://127.0.0.1:{port}"
    try:
        assert scan(eicar(), name="x").verdict == Verdict.INFECTED
    finally:
        thread.join(5)
        listener.close()


def test_an_unreachable_scanner_is_an_error_never_clean(
    settings: Settings, tmp_path: Path
) -> None:
    settings.PERSONVERN_CLAMD_URL = f"unix://{tmp_path}/missing.sock"
    result = scan(b"harmless", name="a.txt")
    assert result.verdict == Verdict.ERROR and "missing.sock" in result.detail
    assert result.status == ScanStatus.UNSCANNED


def test_a_scanner_that_hangs_up_or_talks_nonsense_is_an_error(
    settings: Settings, tmp_path: Path
) -> None:
    import threading

    path = tmp_path / "fake.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)

    def hang_up() -> None:
        conn, _ = listener.accept()
        conn.recv(16)
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    settings.PERSONVERN_CLAMD_URL = f"unix://{path}"
    assert scan(b"x" * 10, name="a.txt").verdict == Verdict.ERROR
    thread.join(5)
    listener.close()
    assert parse_reply("INSTREAM size limit exceeded. ERROR").verdict == Verdict.ERROR
    assert parse_reply("stream:  FOUND").verdict == Verdict.ERROR
    assert parse_reply("").verdict == Verdict.ERROR


def test_without_a_scanner_production_errs_and_development_says_disabled(
    settings: Settings,
) -> None:
    settings.PERSONVERN_CLAMD_URL = ""
    settings.PERSONVERN_ENV = "production"
    assert scan(b"x", name="a").verdict == Verdict.ERROR
    settings.PERSONVERN_ENV = "development"
    result = scan(b"x", name="a")
    assert result.verdict == Verdict.DISABLED and result.status == ScanStatus.UNSCANNED
    assert [m.id for m in run_checks() if m.id == "personvern.W001"] == ["personvern.W001"]


def test_production_does_not_start_without_a_scanner(tmp_path: Path) -> None:
    env = {
        "PERSONVERN_ENV": "production",
        "PERSONVERN_DATA_DIR": str(tmp_path),
        "PERSONVERN_SECRET_KEY": "x" * 50,
        "PERSONVERN_AUDIT_KEY": "y" * 50,
        "PERSONVERN_BASE_URL": "https://www.jus.no",
    }
    with pytest.raises(ConfigurationError, match="PERSONVERN_CLAMD_URL is not set"):
        load_config(env)
    with pytest.raises(ConfigurationError, match="unix:///"):
        load_config(env | {"PERSONVERN_CLAMD_URL": "clamd.sock"})
    url = "tcp://127.0.0.1:3310"
    assert load_config(env | {"PERSONVERN_CLAMD_URL": url})["CLAMD_URL"] == url
    assert load_config({"PERSONVERN_DATA_DIR": str(tmp_path)})["CLAMD_URL"] == ""


def test_clamd_addresses() -> None:
    assert parse_clamd_url("unix:///run/clamav/clamd.ctl") == (
        socket.AF_UNIX, "/run/clamav/clamd.ctl"
    )
    assert parse_clamd_url("tcp://scanner:3311") == (socket.AF_INET, ("scanner", 3311))
    assert parse_clamd_url("tcp://[::1]") == (socket.AF_INET6, ("::1", 3310))
    with pytest.raises(ValueError, match="PERSONVERN_CLAMD_URL"):
        parse_clamd_url("http://scanner")
