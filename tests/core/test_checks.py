"""The system check ties code to policy: undeclared or mismatched holders fail it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from personvern.core import registry
from personvern.core.checks import check_holders
from personvern.core.models import Membership
from personvern.policy import default_policy_path


@pytest.fixture
def membership_holder() -> Iterator[registry.Holder]:
    holder = registry.holder_of(Membership)
    assert holder is not None
    yield holder
    registry.unregister(Membership)
    registry.register(holder)


def _ids(errors: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(e.id, e.msg) for e in errors]


def test_the_shipped_code_and_policy_pass_the_check() -> None:
    assert check_holders() == []
    call_command("check")  # raises SystemCheckError on any error


@pytest.mark.req("R2")
def test_model_with_person_reference_and_no_declaration_fails(
    membership_holder: registry.Holder,
) -> None:
    registry.unregister(Membership)
    errors = _ids(check_holders())
    assert any(i == "personvern.E001" and "core.Membership" in m for i, m in errors)


@pytest.mark.req("R2")
def test_declaration_naming_an_unknown_activity_fails(
    membership_holder: registry.Holder,
) -> None:
    registry.unregister(Membership)
    registry.register(dataclasses.replace(membership_holder, activity="secret-profiling"))
    errors = _ids(check_holders())
    assert any(i == "personvern.E002" and "secret-profiling" in m for i, m in errors)


def test_declaration_naming_an_unknown_anchor_or_cohort_fails(
    membership_holder: registry.Holder,
) -> None:
    registry.unregister(Membership)
    registry.register(
        dataclasses.replace(
            membership_holder,
            anchors={"moon-phase": "valid_from"},
            cohorts={"left-handed": lambda: None},  # type: ignore[dict-item]
        )
    )
    errors = _ids(check_holders())
    assert any(i == "personvern.E003" and "moon-phase" in m for i, m in errors)
    assert any(i == "personvern.E003" and "left-handed" in m for i, m in errors)


def test_holder_missing_an_anchor_its_rules_need_fails() -> None:
    holder = next(h for h in registry.holders() if h.activity == "course-participation"
                  and "course-end" in h.anchors)
    registry.unregister(holder.model)
    registry.register(
        dataclasses.replace(
            holder, anchors={k: v for k, v in holder.anchors.items() if k != "course-end"}
        )
    )
    try:
        errors = _ids(check_holders())
    finally:
        registry.unregister(holder.model)
        registry.register(holder)
    assert any(i == "personvern.E003" and "'course-end'" in m for i, m in errors)


@pytest.mark.req("R2")
def test_policy_activity_that_stores_data_with_no_holder_fails(tmp_path: Path) -> None:
    text = default_policy_path().read_text(encoding="utf-8")
    # Append a copy of the competitions activity under a new id: nothing implements it.
    copy = _activity_block(text, "competitions").replace(
        'id = "competitions"', 'id = "quiz-nights"', 1
    )
    policy = tmp_path / "policy.toml"
    policy.write_text(text + "\n" + copy, encoding="utf-8")
    with override_settings(PERSONVERN_POLICY=str(policy)):
        errors = _ids(check_holders())
    assert any(i == "personvern.E004" and "quiz-nights" in m for i, m in errors)


def _activity_block(text: str, activity_id: str) -> str:
    """The [[activity]] block with ``activity_id``, with its sub-tables, as TOML text."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        header = line.strip()
        if header == "[[activity]]":
            current = [line]
            blocks.append(current)
        elif header.startswith("[") and not header.lstrip("[").startswith("activity."):
            current = None
        elif current is not None:
            current.append(line)
    for block in blocks:
        if any(re.fullmatch(rf'id\s*=\s*"{activity_id}"\s*', ln.strip()) for ln in block):
            return "\n".join(block) + "\n"
    raise AssertionError(f"no activity {activity_id} in the default policy")
