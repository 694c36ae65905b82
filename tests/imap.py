"""A real IMAP server for tests: ``imap_server`` (Debian's Dovecot).

Each test that asks for it gets its own Dovecot, started as a child process
with a throw-away configuration in a temporary directory: one mailbox user with a
password, maildir storage, IMAP on a free port of 127.0.0.1, without TLS (the
client's TLS path is the standard library's). Test data goes in with IMAP
``APPEND`` like any mail client's; the test then reads the store back over
IMAP to see what the code under test flagged or moved.

Dovecot runs its mail processes under an unprivileged user, so the fixture
needs root (as CI has). Without Dovecot or root the tests are skipped; in CI
(``CI`` set, see tests/ci.py) they fail instead, so CI can never pass without them.

Registered suite-wide by ``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ci import skip_or_fail

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MAIL_USER = "nobody"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class IMAPTestServer:
    host: str
    port: int
    user: str
    password: str
    log: Path
    folders: list[str] = field(default_factory=list)

    def url(self, mailbox: str = "INBOX") -> str:
        return f"imap://{self.user}@{self.host}:{self.port}/{mailbox}"

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver a message to ``mailbox`` (created if missing), unread."""
        with self.connect() as client:
            client.create(mailbox)  # "already exists" is fine
            status, _ = client.append(mailbox, None, None, raw)
            assert status == "OK", status

    def messages(self, mailbox: str = "INBOX") -> list[tuple[set[str], bytes]]:
        """(flags, raw message) of every message in ``mailbox``, in order."""
        found: list[tuple[set[str], bytes]] = []
        with self.connect() as client:
            status, _ = client.select(mailbox, readonly=True)
            if status != "OK":
                return found
            _, data = client.search(None, "ALL")
            for number in data[0].split():
                _, parts = client.fetch(number, "(FLAGS BODY.PEEK[])")
                head, raw = parts[0]  # type: ignore[misc]
                flags = head.decode().split("FLAGS (", 1)[1].split(")", 1)[0].split()
                found.append((set(flags), raw))
        return found


def _logs_in(server: IMAPTestServer) -> bool:
    client = imaplib.IMAP4(server.host, server.port, timeout=2)
    try:
        client.login(server.user, server.password)
    except imaplib.IMAP4.error:
        return False
    finally:
        client.shutdown()
    return True


@pytest.fixture
def imap_server(request: pytest.FixtureRequest) -> Iterator[IMAPTestServer]:
    """A real Dovecot IMAP server with one mailbox user, for this test.

    ``@pytest.mark.parametrize("imap_server", ["IMAP4rev1 UIDPLUS"], indirect=True)``
    makes it announce only those capabilities (a server without MOVE, say).
    """
    if not os.path.exists(DOVECOT) or os.geteuid() != 0:
        skip_or_fail("Dovecot (Debian's dovecot-imapd) and root are needed for the IMAP tests")
    # Not under tmp_path: Dovecot's processes run as MAIL_USER and must reach the store,
    # and every pytest session that starts on the machine resets its base directory
    # (/tmp/pytest-of-root) to 0700, which locked a running server out mid-test
    # ("auth service reported temporary failure").
    root = Path(tempfile.mkdtemp(prefix="personvern-dovecot-"))
    root.chmod(0o711)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True)
    account = pwd.getpwnam(MAIL_USER)
    for sub in ("mail", "home"):
        os.chown(root / sub, account.pw_uid, account.pw_gid)
    server = IMAPTestServer(host="127.0.0.1", port=_free_port(), user="personvern",
                            password="test-passord", log=root / "dovecot.log")
    (root / "users").write_text(f"{server.user}:{{PLAIN}}{server.password}\n")
    group = grp.getgrgid(account.pw_gid).gr_name
    config = root / "dovecot.conf"
    text = CONFIG.format(root=root, user=MAIL_USER, group=group, port=server.port)
    capability = getattr(request, "param", None)
    if capability:
        text += f"protocol imap {{\n  imap_capability = {capability}\n}}\n"
    config.write_text(text)
    process = subprocess.Popen(  # noqa: S603 - Debian's binary, our config
        [DOVECOT, "-F", "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                # Ready when a login is accepted: on a busy machine the listener opens
                # before the auth process answers ("Temporary authentication failure").
                if _logs_in(server):
                    break
                raise OSError("login refused")
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.terminate()  # else reading its output waits for it forever
                    output = process.stdout.read().decode() if process.stdout else ""
                    log = server.log.read_text() if server.log.exists() else ""
                    pytest.fail(f"Dovecot did not start: {output}{log[-2000:]}")
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
