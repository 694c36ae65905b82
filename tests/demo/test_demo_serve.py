"""``./run demo`` serves the system with a worker beside it: mail, reminders and retention
happen on their own, and stopping the demo stops the worker too."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("PERSONVERN_DATABASE_URL", "PERSONVERN_TEST_DATABASE_NAME", "PERSONVERN_EMAIL_URL"):
        env.pop(key, None)
    env.update(PERSONVERN_ENV="development", PERSONVERN_DATA_DIR=str(data_dir),
               PERSONVERN_CLAMD_URL="")
    return env


def _personvern(data_dir: Path, *argv: str) -> str:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "personvern", *argv], env=_env(data_dir), cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout


def _wait(what: str, ready: object, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240  # start-up in a busy CI; never a timing assertion
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        if process.poll() is not None:
            pytest.fail(f"the demo ended before {what}:\n{log.read_text()}")
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen in time:\n{log.read_text()}")


@pytest.mark.slow
def test_the_demo_runs_a_worker_that_does_the_scheduled_work(tmp_path: Path) -> None:
    data_dir, log, port = tmp_path / "var", tmp_path / "demo.log", _free_port()
    demo = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "personvern", "demo", "--serve", "--persons", "20",
         "--port", str(port)],
        env=_env(data_dir), cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        def serving() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:  # noqa: S310
                    return bool(page.status == 200)
            except OSError:
                return False

        def jobs_ran() -> bool:
            jobs = {j["name"]: j for j in json.loads(_personvern(data_dir, "jobs", "list",
                                                                 "--format", "json"))}
            return all(jobs[name]["outcome"] == "succeeded"
                       for name in ("retention-run", "mail-sweep", "audit-seal"))

        _wait("the site answered", serving, demo, log)
        _wait("the worker ran the jobs", jobs_ran, demo, log)

        # Min side as the printed instructions say: ask for a link as Kari, and the demo
        # prints it when the worker has written the mail; the link points to this port.
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}/me/" in printed
        assert "kari.nordmann@example.no" in printed
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        sign_in = f"http://127.0.0.1:{port}/me/sign-in/"
        with browser.open(sign_in, timeout=30) as page:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
        assert token is not None
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "email": "kari.nordmann@example.no"}
        ).encode()
        browser.open(urllib.request.Request(sign_in, data=form, headers={"Referer": sign_in}),
                     timeout=30).close()
        link = re.compile(rf"Sign-in link for kari\.nordmann@example\.no: "
                          rf"(http://127\.0\.0\.1:{port}/me/sign-in/link/\S+/)\n")
        _wait("the sign-in link was printed", lambda: link.search(log.read_text()), demo, log)
        found = link.search(log.read_text())
        assert found is not None
        with browser.open(found.group(1), timeout=30) as page:
            assert page.status == 200
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=60)
    # Stopping the demo stopped its worker, which signed off.
    assert "worker" in log.read_text().lower()
    workers = _personvern(
        data_dir, "manage", "shell", "-c",
        "from personvern.worker.models import WorkerProcess; print(WorkerProcess.objects.count())",
    )
    assert workers.strip().splitlines()[-1] == "0"
