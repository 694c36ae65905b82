"""E-mail intake: privacy requests from an IMAP mailbox, .eml files or a maildir (R5, R32).

``personvern rights intake imaps://user@host/INBOX`` reads a mailbox on the
mail server (:func:`intake_imap`; run it from cron); ``personvern rights
intake PATH`` reads one .eml file, a directory of .eml files, or a maildir
(``cur/`` and ``new/``). A message whose Subject carries the policy's privacy
marker ("Personvern") becomes a request:

- received at the moment in its ``Date`` header (the deadline runs from
  receipt); a message without a ``Date``, or with one that cannot be right
  (unparseable, a year before 1970 such as ``0000``, later than the message
  arrived), is dated from its arrival (IMAP's INTERNALDATE, else the file's
  modification time), and the report and the request's notes say so;
- linked to the person who holds the sender address (``From``), created if
  unknown (see :func:`personvern.rights.services.request_create`). Headers
  are read as UTF-8 (RFC 6532), so ``kari@blåbær.no`` is an address. A
  ``From`` with several addresses, or an address whose local part is not
  ASCII (it cannot be an identity here), is registered linked to nobody,
  with a note naming the addresses: guessing could show one person
  another's data;
- typed by keywords of its subject and text, Norwegian and English. When no
  right or more than one is named, the request is registered as
  ``unclassified`` (guessing would start the wrong process) and reported as
  needing classification: it is in the back office's work list from the
  start, its deadline running from receipt, and staff classify it there or
  with ``personvern rights classify ID TYPE``. ``--type`` forces the type of
  the messages not yet taken.

Safety design:
- Idempotent: the ``Message-ID`` (or, lacking one, the digest of the raw
  message) is the request's ``source_message_id``; a message taken before is
  reported as such and left alone, so intake can run from cron on the same
  maildir again and again.
- Each message is its own unit, in its own transaction (a savepoint inside
  a caller's): a malformed message (no parsable sender) is reported with its
  file name or IMAP UID and leaves nothing behind; one whose registration
  fails for any other reason (the database refuses a value) is reported as
  ``failed``, left for the next run, and never stops the others. Control
  characters (NUL above all, which PostgreSQL refuses) are left out of what
  is stored, with a note.
- Read-only on the mail store: nothing is moved, flagged or deleted (IMAP
  reads with ``BODY.PEEK``, so not even \\Seen is set), except that an IMAP
  intake with ``--move-to`` moves the messages it registered to that folder.
- Scanned for malware (R21, :mod:`personvern.core.scanning`): every part of a
  marked message is scanned before the message is taken. An infected
  attachment is not taken in: the request is registered all the same (the
  deadline runs), and the report and the request's notes name the attachment,
  the signature found and that the original must not be opened. If the scanner
  cannot be reached, the message is left untaken (``not-scanned``) for the next
  run; its deadline still counts from its Date header.

Modules: :mod:`.message` reads one message (sender, date, text, the right it
names, its parts scanned); :mod:`.sources` lists the messages of an .eml file,
a directory or a maildir; :mod:`.imap` reads an IMAP mailbox;
:mod:`.registration` registers one message as a request; :mod:`.report` says
what happened to each; :mod:`.command` is ``personvern rights intake``.
"""

from personvern.rights.intake.command import register
from personvern.rights.intake.imap import (
    IMAP_WINDOW_DAYS,
    IMAPAddress,
    IMAPIntakeError,
    intake_imap,
)
from personvern.rights.intake.message import guess_type
from personvern.rights.intake.registration import intake_path
from personvern.rights.intake.report import (
    DRY_RUN_LABELS,
    OUTCOME_LABELS,
    IntakeItem,
    IntakeReport,
    Outcome,
)

__all__ = [
    "DRY_RUN_LABELS",
    "IMAP_WINDOW_DAYS",
    "OUTCOME_LABELS",
    "IMAPAddress",
    "IMAPIntakeError",
    "IntakeItem",
    "IntakeReport",
    "Outcome",
    "guess_type",
    "intake_imap",
    "intake_path",
    "register",
]
