"""System checks that tie the code to the policy.

They run with ``manage.py check`` (and so in CI and at start-up):

- personvern.E001: a model references Person, has a field marked personal, or
  (in personvern's own apps) a field that looks personal by its type or name and
  is not marked ``not_personal`` (see :mod:`personvern.core.fields`), and no
  holder declares it;
- personvern.E002: a declaration names an activity the policy lacks;
- personvern.E003: a declaration names an anchor or cohort the policy vocabulary
  lacks, or a holder lacks an anchor/cohort its activity's retention rules use;
- personvern.E004: the policy declares an activity that stores data and no holder
  implements it;
- personvern.E005: the policy file itself is invalid;
- personvern.W001: virus scanning of received files is disabled (no CLAMD_URL).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import models

from personvern.core.fields import is_personal, looks_personal
from personvern.core.registry import holder_of, holders


def _references_person(model: type[models.Model]) -> bool:
    from personvern.core.models import Person

    if model is Person:
        return True
    return any(
        isinstance(f, models.ForeignKey | models.OneToOneField | models.ManyToManyField)
        and f.related_model is Person
        for f in model._meta.get_fields()
        if not f.auto_created or f.concrete
    )


def _has_personal_fields(model: type[models.Model]) -> bool:
    return any(is_personal(f) for f in model._meta.get_fields())


#: Django's own apps: their user and session tables are not the people of the policy.
DJANGO_APPS = {"admin", "auth", "contenttypes", "sessions"}


def _ours(model: type[models.Model]) -> bool:
    """Whether the model belongs to one of personvern's own apps (not Django's or a library's)."""
    return model._meta.app_config is not None and model._meta.app_config.name.startswith(
        "personvern."
    )


def _personal_looking_fields(model: type[models.Model]) -> list[str]:
    """Names of the model's own fields that look personal and are not marked either way."""
    return [
        f.name
        for f in model._meta.get_fields()
        if getattr(f, "model", None) is model and not is_personal(f) and looks_personal(f)
    ]


def undeclared_holders(
    models_to_check: Iterable[type[models.Model]],
) -> list[checks.CheckMessage]:
    """personvern.E001 for each model that holds personal data and no holder declares."""
    errors: list[checks.CheckMessage] = []
    for model in models_to_check:
        if model._meta.app_label in DJANGO_APPS or holder_of(model):
            continue
        if _references_person(model) or _has_personal_fields(model):
            errors.append(
                checks.Error(
                    f"{model._meta.label} holds personal data but no privacy.py declares it "
                    "as a holder.",
                    hint="Register a Holder for it in its app's privacy.py.",
                    obj=model,
                    id="personvern.E001",
                )
            )
        elif _ours(model) and (looking := _personal_looking_fields(model)):
            errors.append(
                checks.Error(
                    f"{model._meta.label} has fields that look personal "
                    f"({', '.join(looking)}) but no privacy.py declares it as a holder.",
                    hint=(
                        "Register a Holder for it in its app's privacy.py, or mark each such "
                        "field with personvern.core.fields.not_personal(field, why) if it is "
                        "about no one."
                    ),
                    obj=model,
                    id="personvern.E001",
                )
            )
    return errors


@checks.register("personvern")
def check_holders(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Run the holder/policy consistency checks."""
    from personvern.core.policy import current_policy
    from personvern.policy import ANCHORS, COHORTS, PolicyError

    errors: list[checks.CheckMessage] = []
    try:
        policy = current_policy()
    except PolicyError as exc:
        return [
            checks.Error(f"The policy file is invalid: {p}", id="personvern.E005")
            for p in exc.problems
        ]

    errors += undeclared_holders(apps.get_models())

    activity_ids = {a.id for a in policy.activities}
    for holder in holders():
        if holder.activity is not None and holder.activity not in activity_ids:
            errors.append(
                checks.Error(
                    f"{holder.label} is declared for activity {holder.activity!r}, "
                    "which the policy does not have.",
                    obj=holder.model,
                    id="personvern.E002",
                )
            )
        for anchor in holder.anchors:
            if anchor not in ANCHORS:
                errors.append(
                    checks.Error(
                        f"{holder.label} offers anchor {anchor!r}, which the policy "
                        "vocabulary does not know.",
                        obj=holder.model,
                        id="personvern.E003",
                    )
                )
        for cohort in holder.cohorts:
            if cohort not in COHORTS:
                errors.append(
                    checks.Error(
                        f"{holder.label} offers cohort {cohort!r}, which the policy "
                        "vocabulary does not know.",
                        obj=holder.model,
                        id="personvern.E003",
                    )
                )
        if holder.activity in activity_ids:
            for rule in policy.activity(holder.activity).retention:
                if rule.after not in holder.anchors:
                    errors.append(
                        checks.Error(
                            f"{holder.label} does not offer anchor {rule.after!r}, which "
                            f"retention rule {holder.activity}/{rule.id} needs.",
                            obj=holder.model,
                            id="personvern.E003",
                        )
                    )
                if rule.cohort and rule.cohort not in holder.cohorts:
                    errors.append(
                        checks.Error(
                            f"{holder.label} does not offer cohort {rule.cohort!r}, which "
                            f"retention rule {holder.activity}/{rule.id} needs.",
                            obj=holder.model,
                            id="personvern.E003",
                        )
                    )

    implemented = {h.activity for h in holders()}
    for activity in policy.activities:
        if activity.stores_data and activity.id not in implemented:
            errors.append(
                checks.Error(
                    f"The policy declares activity {activity.id!r} as storing personal data, "
                    "but no holder implements it.",
                    id="personvern.E004",
                )
            )
    return errors


@checks.register("personvern")
def check_scanner(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """personvern.W001: virus scanning of received files (R21) is switched off."""
    from personvern.core.scanning import scanning_enabled

    if scanning_enabled():
        return []
    return [
        checks.Warning(
            "Virus scanning is disabled (PERSONVERN_CLAMD_URL is empty): received files are "
            "stored as not scanned and cannot be downloaded until `personvern scan pending` "
            "finds them clean.",
            hint="Set PERSONVERN_CLAMD_URL to the ClamAV daemon (required in production).",
            id="personvern.W001",
        )
    ]
