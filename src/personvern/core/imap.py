"""IMAP plumbing shared by the privacy-request intake (R32) and the mailbox sweep (R19).

Addresses are written ``imap[s]://user@host[:port]/mailbox`` (never with the
password in them: it comes from the configuration). ``imaps://`` verifies the
server's certificate with the system's CA store; plain ``imap://`` is refused
in production, where it would send the password in clear.

Removing single messages needs care on a shared mailbox: a plain ``EXPUNGE``
removes every message anyone has marked ``\\Deleted``. :func:`move_uids` and
:func:`expunge_uids` therefore use MOVE (RFC 6851) or ``UID EXPUNGE``
(UIDPLUS, RFC 4315) and refuse a server that offers neither.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings


class IMAPError(Exception):
    """The mailbox could not be read or changed (address, login, mailbox or connection)."""


@dataclass(frozen=True)
class IMAPAddress:
    """``imap[s]://user@host[:port]/mailbox``, parsed."""

    secure: bool
    user: str
    host: str
    port: int
    mailbox: str

    @classmethod
    def parse(cls, url: str) -> IMAPAddress:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise IMAPError(
                # Not repeated back: a password written into it would end up in logs.
                "the address given is not an IMAP address: imaps://user@host[:port]/mailbox"
            )
        secure = parts.scheme == "imaps"
        return cls(
            secure=secure,
            user=unquote(parts.username),
            host=parts.hostname,
            port=parts.port or (993 if secure else 143),
            mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    def __str__(self) -> str:
        scheme = "imaps" if self.secure else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.mailbox}"


def quote(text: str) -> str:
    """``text`` as an IMAP quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextlib.contextmanager
def logged_in(address: IMAPAddress, password: str) -> Iterator[imaplib.IMAP4]:
    """A client logged in to ``address``'s server; logged out afterwards.

    Connection failures while it is in use become :class:`IMAPError`.
    """
    if not address.secure and settings.PERSONVERN_ENV == "production":
        raise IMAPError("imap:// sends the password in clear: use imaps:// in production")
    try:
        client = (
            imaplib.IMAP4_SSL(address.host, address.port, ssl_context=ssl.create_default_context(),
                              timeout=30)
            if address.secure else imaplib.IMAP4(address.host, address.port, timeout=30)
        )
    except OSError as exc:
        raise IMAPError(f"cannot reach {address.host}:{address.port}: {exc}") from exc
    try:
        try:
            client.login(address.user, password)
        except imaplib.IMAP4.error as exc:
            raise IMAPError(f"the server refused the login of {address.user!r}") from exc
        yield client
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise IMAPError(f"the connection to {address.host} failed: {exc}") from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def select(client: imaplib.IMAP4, mailbox: str, *, readonly: bool) -> int:
    """Select ``mailbox``; its UIDVALIDITY (0 if the server does not say)."""
    status, data = client.select(quote(mailbox), readonly=readonly)
    if status != "OK":
        reply = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise IMAPError(f"there is no mailbox {mailbox!r} (the server said: {reply[:200]})")
    _, data = client.response("UIDVALIDITY")
    try:
        return int((data or [b"0"])[-1] or 0)
    except (TypeError, ValueError):
        return 0


def capabilities(client: imaplib.IMAP4) -> set[str]:
    """What the server offers (asked after login: MOVE and UIDPLUS are announced only then)."""
    status, data = client.capability()
    return set(data[-1].decode().upper().split()) if status == "OK" and data else set()


NEITHER_MOVE_NOR_UIDPLUS = "the server can neither MOVE nor expunge single messages (UIDPLUS)"


def move_uids(client: imaplib.IMAP4, uids: str, folder: str) -> None:
    """Move the messages ``uids`` (comma-separated) to ``folder`` (created if missing).

    With MOVE, or COPY and then ``UID EXPUNGE`` of exactly these messages.
    """
    client.create(quote(folder))  # NO when it exists, which is fine
    offered = capabilities(client)
    if "MOVE" in offered:
        status, data = client.uid("MOVE", uids, quote(folder))
    elif "UIDPLUS" in offered:
        status, data = client.uid("COPY", uids, quote(folder))
        if status == "OK":
            status, data = client.uid("STORE", uids, "+FLAGS.SILENT", "(\\Deleted)")
        if status == "OK":
            status, data = client.uid("EXPUNGE", uids)
    else:
        raise IMAPError(NEITHER_MOVE_NOR_UIDPLUS)
    if status != "OK":
        raise IMAPError(f"could not move messages to {folder!r}: {data!r}")


def expunge_uids(client: imaplib.IMAP4, uids: str) -> None:
    """Delete exactly the messages ``uids``: flag them ``\\Deleted``, then ``UID EXPUNGE``."""
    if "UIDPLUS" not in capabilities(client):
        raise IMAPError(NEITHER_MOVE_NOR_UIDPLUS)
    status, data = client.uid("STORE", uids, "+FLAGS.SILENT", "(\\Deleted)")
    if status == "OK":
        status, data = client.uid("EXPUNGE", uids)
    if status != "OK":
        raise IMAPError(f"could not delete messages: {data!r}")
