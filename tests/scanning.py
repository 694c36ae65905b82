"""A real ClamAV daemon for tests: ``clamd`` (R21).

The session starts its own ``clamd`` (Debian's clamav-daemon, /usr/sbin/clamd)
in the foreground with a temporary configuration: a unix socket in a temporary
directory and a signature database holding one signature written here, which
detects the EICAR anti-virus test string. No downloaded signatures (freshclam)
and no network are needed. The daemon is stopped when the session ends.

``clamd`` points ``PERSONVERN_CLAMD_URL`` at it for one test. ``eicar()`` builds
the test string from parts, so that no file in the repository is itself flagged.

Outside CI a missing clamd skips the tests that need it (``./run test``
installs clamav-daemon as root); with ``CI`` set it fails them.

Registered suite-wide by ``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from tests.ci import skip_or_fail

SIGNATURE = "Personvern.Test.EICAR"
START_TIMEOUT_SECONDS = 60.0


def eicar() -> bytes:
    """The 68-byte EICAR anti-virus test file, assembled at run time."""
    head = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$"
    tail = "-".join(["EICAR", "STANDARD", "ANTIVIRUS", "TEST", "FILE!$H+H*"])
    return (head + tail).encode("ascii")


def _clamd_binary() -> str | None:
    return shutil.which("clamd") or next(
        (p for p in ("/usr/sbin/clamd", "/usr/bin/clamd") if os.path.exists(p)), None
    )


def _socket_answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(2)
            conn.connect(str(path))
            conn.sendall(b"zPING\0")
            return conn.recv(16).startswith(b"PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def clamd_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``unix://`` address of a clamd started for this test session."""
    binary = _clamd_binary()
    if binary is None:
        skip_or_fail(
            "clamd is not installed (apt-get install clamav-daemon; ./run test does it)"
        )
    root = tmp_path_factory.mktemp("clamd")
    database = root / "db"
    database.mkdir()
    # An extended (.ndb) signature: name, any file type (0), any offset (*), hex bytes.
    (database / "personvern-test.ndb").write_text(f"{SIGNATURE}:0:*:{eicar().hex()}\n")
    sock = root / "clamd.sock"
    log = root / "clamd.log"
    config = root / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"LocalSocket {sock}",
                "Foreground yes",
                f"DatabaseDirectory {database}",
                f"LogFile {log}",
                f"PidFile {root / 'clamd.pid'}",
                f"TemporaryDirectory {root}",
                "SelfCheck 0",
                # What docs/operations.md requires of a production clamd: a file
                # clamd cannot fully scan is reported, never answered "OK".
                "AlertExceedsMax yes",
                "AlertEncrypted yes",
                "StreamMaxLength 30M",
                "MaxFileSize 30M",
                "MaxScanSize 100M",
                "",
            ]
        )
    )
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [binary, "--config-file", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _socket_answers(sock):
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                if process.poll() is None:
                    process.kill()
                pytest.fail(f"clamd did not start:\n{output[-3000:]}")
            time.sleep(0.1)
        yield f"unix://{sock}"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()


@pytest.fixture
def clamd(clamd_url: str, settings: Settings) -> str:
    """Scanning on, by the session's clamd, for one test; returns its address."""
    settings.PERSONVERN_CLAMD_URL = clamd_url
    return clamd_url
