"""The customer's statement as the own-words test compares it, and its fingerprint.

The statement lives in the shared folder beside the repository, which a CI clone
may not have. So that the test runs everywhere, the repository keeps a
fingerprint of it instead of its text: for each of its sentences, the number of
words and the SHA-256 of the words, normalised. A notice is checked by hashing
every run of that many consecutive words in it, so a sentence of the statement
is found wherever it stands in the notice, inside a longer sentence too. With
the statement at hand the test also compares against the text and checks that
the fingerprint is current.

Regenerate after the statement changes:  python -m tests.policy.statement
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

from tests.policy.helpers import customer_statement

FINGERPRINT = Path(__file__).parent / "data" / "statement-sentences.sha256"
#: Sentences shorter than this are too common ("Les mer her.") to count as copied.
MIN_SENTENCE = 60


def sentences(text: str) -> list[str]:
    """The statement's (or a notice's) sentences, as the comparison sees them."""
    parts = (s.strip() for s in text.replace("\n", ". ").split(". "))
    return [s for s in parts if len(s) > MIN_SENTENCE]


_EDGE = ".,;:!?()[]«»\"'“”‘’"


def words(text: str) -> list[str]:
    """Words as compared: case and the punctuation around each word do not count."""
    found = (w.strip(_EDGE) for w in re.split(r"\s+", text.casefold()))
    return [w for w in found if w]


def _hash(run: list[str]) -> str:
    return hashlib.sha256(" ".join(run).encode()).hexdigest()


def digest(sentence: str) -> str:
    """A sentence's fingerprint line: its number of words and their hash."""
    run = words(sentence)
    return f"{len(run)} {_hash(run)}"


def fingerprint_of(text: str) -> list[str]:
    return sorted({digest(s) for s in sentences(text)})


def copied_runs(text: str, fingerprint: set[str]) -> list[str]:
    """The runs of words in ``text`` that are a sentence of the fingerprinted statement."""
    lengths = sorted({int(line.split(" ", 1)[0]) for line in fingerprint})
    tokens = words(text)
    found = []
    for n in lengths:
        for start in range(len(tokens) - n + 1):
            run = tokens[start : start + n]
            if f"{n} {_hash(run)}" in fingerprint:
                found.append(" ".join(run))
    return found


def fingerprint_path() -> Path:
    configured = os.environ.get("PERSONVERN_STATEMENT_FINGERPRINT")
    return Path(configured) if configured else FINGERPRINT


def read_fingerprint() -> set[str] | None:
    path = fingerprint_path()
    if not path.is_file():
        return None
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def main() -> int:
    statement = customer_statement()
    if statement is None:
        print("The statement is not beside this checkout (or in $PERSONVERN_SHARED_DIR).",
              file=sys.stderr)
        return 1
    digests = fingerprint_of(statement.read_text(encoding="utf-8"))
    FINGERPRINT.parent.mkdir(exist_ok=True)
    FINGERPRINT.write_text("\n".join(digests) + "\n")
    print(f"{FINGERPRINT}: {len(digests)} sentences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
