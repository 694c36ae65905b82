"""An over-large upload is refused before it is read (issue 7, 3.11).

Through a real HTTP server (the live server) and a raw HTTP client: the client
declares a 200 MB body, sends only the first 256 KiB and then waits. The 413
must arrive while the rest has not been sent, so the server cannot have read
(or stored in memory or a temporary file) the body it refused.
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_django.fixtures import Settings

from personvern.inquiries.models import Inquiry
from personvern.site.uploads import MAX_REQUEST_BYTES

DECLARED = 200 * 1024 * 1024
SENT = 256 * 1024
BOUNDARY = "----personvern-test"


def _multipart_start() -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="attachment"; filename="stor.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()
    return head + b"0" * (SENT - len(head))


def _send_partially(
    live_server: Any, *, headers: dict[str, str], body: bytes
) -> tuple[http.client.HTTPResponse, str, float]:
    """POST to the secure form: headers and ``body`` only, then read the answer."""
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
    started = time.monotonic()
    connection.putrequest("POST", "/secure-message/")
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders(message_body=body)
    response = connection.getresponse()
    text = response.read().decode()
    elapsed = time.monotonic() - started
    connection.close()
    return response, text, elapsed


@pytest.fixture
def upload_dir(tmp_path: Path, settings: Settings) -> Path:
    """Where Django would spool a large upload; it must stay empty."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


@pytest.mark.req("R20")
def test_a_200_mb_upload_is_refused_with_413_before_the_body_is_sent(
    live_server: Any, upload_dir: Path
) -> None:
    response, text, elapsed = _send_partially(
        live_server,
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(DECLARED),
            "Accept-Language": "en",
        },
        body=_multipart_start(),
    )

    assert response.status == 413
    assert "too large (200.0\xa0MB)" in text
    assert "at most 11.0\xa0MB" in text and "a file at most 10.0\xa0MB" in text
    assert elapsed < 10  # answered at once, not after a timeout
    assert list(upload_dir.iterdir()) == []
    assert not Inquiry.objects.exists()


@pytest.mark.req("R20")
def test_the_refusal_speaks_the_browsers_language(live_server: Any, upload_dir: Path) -> None:
    response, text, _elapsed = _send_partially(
        live_server,
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(MAX_REQUEST_BYTES + 1),
            "Accept-Language": "nb",
        },
        body=_multipart_start(),
    )

    assert response.status == 413
    assert 'lang="nb"' in text
    assert "for stort" in text


@pytest.mark.req("R20")
def test_a_chunked_body_without_a_length_is_refused_unread(
    live_server: Any, upload_dir: Path
) -> None:
    # One chunk of 256 KiB that never ends: the server must not wait for the rest.
    chunk = _multipart_start()
    response, text, elapsed = _send_partially(
        live_server,
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Transfer-Encoding": "chunked",
            "Accept-Language": "en",
        },
        body=f"{len(chunk) * 1000:x}\r\n".encode() + chunk,
    )

    assert response.status == 411
    assert "did not say how large it is" in text
    assert elapsed < 10
    assert list(upload_dir.iterdir()) == []
    assert not Inquiry.objects.exists()
