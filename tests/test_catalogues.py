"""Every app's nb and en catalogues are complete: nb translates every message,
en lists the same messages, and nothing is left fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "personvern"
APPS = sorted(p.parent.parent.parent.parent for p in SRC.glob("*/locale/nb/LC_MESSAGES/django.po"))


def _entries(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy) for a .po file (plural forms joined)."""
    text = path.read_text(encoding="utf-8")
    entries: dict[str, tuple[str, bool]] = {}
    # Entries are separated by blank lines; a reference line ("#: ") also starts
    # one, so an entry glued to the header (no blank line) is not lost in it.
    for block in re.split(r"\n\s*\n|\n(?=#: )", text):
        if block.lstrip().startswith("#~"):
            continue  # obsolete entries are ignored by gettext
        fuzzy = bool(re.search(r"^#,.*\bfuzzy\b", block, re.M))
        msgid = _field(block, "msgid")
        if msgid is None or msgid == "":
            continue
        context = _field(block, "msgctxt") or ""
        strs = [_field(block, "msgstr")] + [
            _field(block, f"msgstr\\[{i}\\]") for i in range(4)
        ]
        msgstr = "".join(s or "" for s in strs) if any(strs) else ""
        # A missing plural form counts as untranslated; an empty first line that
        # continues on the next ones (a long, wrapped form) does not.
        if re.search(r'^msgstr\[\d\] ""\n(?!")', block + "\n", re.M):
            msgstr = ""
        entries[f"{context}\x04{msgid}"] = (msgstr, fuzzy)
    return entries


def _field(block: str, name: str) -> str | None:
    match = re.search(rf'^{name} ((?:".*"\n?)+)', block + "\n", re.M)
    if not match:
        return None
    return "".join(re.findall(r'"(.*)"', match.group(1)))


def test_there_are_catalogues() -> None:
    assert {"core", "courses", "policy", "rights"} <= {p.name for p in APPS}


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_catalogues_are_complete(app: Path) -> None:
    nb = _entries(app / "locale" / "nb" / "LC_MESSAGES" / "django.po")
    en_path = app / "locale" / "en" / "LC_MESSAGES" / "django.po"
    assert en_path.exists(), f"{app.name} has no en catalogue"
    en = _entries(en_path)
    untranslated = [k.split("\x04")[1] for k, (s, _f) in nb.items() if not s]
    fuzzy = [k.split("\x04")[1] for k, (_s, f) in nb.items() if f]
    assert untranslated == [], f"{app.name}: nb lacks translations"
    assert fuzzy == [], f"{app.name}: nb has fuzzy entries"
    assert set(nb) == set(en), f"{app.name}: nb and en list different messages"
