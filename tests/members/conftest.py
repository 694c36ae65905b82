"""Fixtures of the member-feed tests."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation

from personvern.members import cli


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Tests compare English texts."""
    with translation.override("en"):
        yield


def run(*argv: str) -> int:
    """Run ``personvern members …`` in-process; returns the exit code."""
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


HEADER = "member_id,email,given_name,family_name,member_from,member_to\n"


def member_file(tmp_path: Path, *lines: str, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path
