"""Demo data for data-subject requests (R32–R40), in every state the back office shows.

Written set-based (bulk_create) for ``personvern demo``, by the rules of
:mod:`personvern.rights.services`, without sending mail or writing export files:

- the deadline is fixed from the Oslo date of receipt with the services' own
  helpers (:func:`~personvern.rights.deadlines.response_deadline`, and
  :func:`~personvern.rights.deadlines.extended_deadline` for the one extension,
  decided within the first month, the person told the same day);
- a request registered by staff later than it arrived keeps its receipt date
  (R40); ``subject`` is the person's audit pseudonym;
- in-progress and completed requests are verified; a completed restriction or
  objection left the core ``Restriction``/``Objection`` row the rights engine
  leaves; a completed erasure has lost its person and keeps only its pseudonym
  and counts, as ``request_fulfil`` leaves it;
- one request is ``unclassified`` (registered from an e-mail naming no right),
  when the model has that type.

The mix: open requests overdue, due within days, and fresh; one extended;
cancelled ones; completed ones over four years, so the case-file rule (three
years after the last contact) has requests due now and within the year. The
same (persons, rng, now) gives the same data.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from personvern.core.audit import audit_log, pseudonym
from personvern.core.models import Objection, Person, Restriction, RestrictionGround
from personvern.core.policy import current_policy
from personvern.demo.bulk import Progress
from personvern.rights.deadlines import extended_deadline, received_date, response_deadline
from personvern.rights.models import (
    Channel,
    Request,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from personvern.rights.privacy import ACTIVITY

#: Requests per person (one in 250), and the least number of requests.
REQUEST_SHARE = 0.004
MIN_REQUESTS = 16
DPO = "staff:personvern"

CHANNELS = [Channel.EMAIL, Channel.EMAIL, Channel.WEB, Channel.POST, Channel.STAFF]
NOTES: dict[str, str] = {
    RequestType.ACCESS: "Ber om kopi av alle opplysninger dere har om meg, også kurshistorikk.",
    RequestType.RECTIFICATION: "Etternavnet mitt er feilstavet på kursbevisene.",
    RequestType.ERASURE: "Jeg ønsker at dere sletter alle opplysninger om meg.",
    RequestType.RESTRICTION: "Jeg bestrider at opplysningene om arbeidsgiver er riktige.",
    RequestType.OBJECTION: "Jeg vil ikke lenger motta markedsføring fra dere.",
    RequestType.PORTABILITY: "Send meg opplysningene mine i et maskinlesbart format.",
}
STAFF_CHECKS = [
    "Bekreftet per telefon mot registrert telefonnummer.",
    "Legitimasjon vist i resepsjonen.",
    "Brevet er signert og sendt fra registrert adresse.",
]
CANCEL_REASONS = [
    "Personen trakk henvendelsen.",
    "Dublett av en tidligere registrert henvendelse.",
    "Identiteten ble ikke bekreftet.",
]


def _unclassified() -> str | None:
    """The ``unclassified`` type, if this version of the model has it."""
    return next((t for t in RequestType.values if t == "unclassified"), None)


def _objection_activities() -> list[str]:
    """Direct marketing, and the activities where Art. 21 applies (as objection_record checks)."""
    policy = current_policy()
    return [Objection.DIRECT_MARKETING] + [
        a.id for a in policy.activities if a.objection_applies and a.stores_data
    ]


def _plan(n: int, rng: random.Random) -> list[str]:
    """The scenario of each request: at least one of each, the rest completed."""
    plan = ["completed-old", "completed-recent", "extended"]
    if _unclassified():
        plan.append("unclassified")
    for scenario, share in (("overdue", 10), ("due-soon", 10), ("fresh", 10), ("cancelled", 20)):
        plan += [scenario] * (1 + n // share)
    plan += ["completed"] * max(0, n - len(plan))
    rng.shuffle(plan)
    return plan


def generate(
    *,
    persons: QuerySet[Person],
    rng: random.Random,
    now: datetime,
    progress: Progress | None = None,
) -> None:
    """Create privacy requests for about one in 250 of ``persons`` (at least 16), in
    every state: overdue, due soon, fresh, extended, unclassified, cancelled, completed."""
    people = list(persons.values_list("pk", "public_id"))
    if not people:
        return
    n = max(MIN_REQUESTS, round(len(people) * REQUEST_SHARE))
    plan = _plan(n, rng)
    chosen = sorted(rng.sample(people, min(len(people), len(plan))))
    objectable = _objection_activities()
    today = received_date(now)
    classified = [t for t in RequestType.values if t != _unclassified()]

    requests: list[Request] = []
    restrictions: list[Restriction] = []
    objections: list[Objection] = []
    for scenario, (person_id, public_id) in zip(plan, chosen, strict=False):
        days_ago = {
            "completed-old": rng.randint(3 * 365 + 60, 4 * 365),
            "completed-recent": rng.randint(2 * 365 + 60, 3 * 365 - 30),
            "completed": rng.randint(30, 4 * 365),
            "cancelled": rng.randint(60, 3 * 365),
            "overdue": rng.randint(40, 75),
            "due-soon": rng.randint(25, 28),
            "fresh": rng.randint(0, 10),
            "extended": rng.randint(40, 55),
            "unclassified": rng.randint(1, 3),
        }[scenario]
        received_at = now - timedelta(
            days=days_ago, hours=rng.randint(0, 3), minutes=rng.randint(0, 59)
        )
        channel = rng.choice(CHANNELS)
        # Letters and requests taken by staff are registered a little later (R40).
        delay = timedelta(days=rng.randint(1, 3)) if channel in (Channel.POST, Channel.STAFF) else (
            timedelta(minutes=rng.randint(1, 90)))
        created_at = min(now, received_at + delay)
        type_ = _unclassified() if scenario == "unclassified" else rng.choice(classified)
        assert type_ is not None
        deadline = response_deadline(received_date(received_at))
        values: dict[str, Any] = {
            "type": type_,
            "status": RequestStatus.PENDING,
            "person_id": person_id,
            "subject": pseudonym(str(public_id)),
            "channel": channel,
            "received_at": received_at,
            "created_at": created_at,
            "created_by": "public:web" if channel == Channel.WEB else DPO,
            "notes": NOTES.get(type_, "E-post merket «Personvern» uten at retten er nevnt."),
            "due_strict": deadline.strict,
            "due_legal": deadline.legal,
        }
        verified = scenario in ("completed", "completed-old", "completed-recent", "extended") or (
            scenario in ("overdue", "due-soon") and rng.random() < 0.5
        )
        if verified:
            verified_at = min(now, created_at + timedelta(days=rng.randint(0, 4), hours=2))
            if channel in (Channel.POST, Channel.STAFF) or rng.random() < 0.3:
                values.update(
                    verification_method=VerificationMethod.STAFF,
                    verification_note=rng.choice(STAFF_CHECKS),
                )
            else:
                values.update(
                    verification_method=VerificationMethod.CODE,
                    verification_sent_at=created_at,
                )
            values.update(verified_at=verified_at, status=RequestStatus.IN_PROGRESS)
        elif scenario != "unclassified" and channel != Channel.POST and rng.random() < 0.5:
            # A code was sent and not yet used (only its digest would be stored; none here).
            values["verification_sent_at"] = created_at
        if scenario == "extended":
            decided = min(now, received_at + timedelta(days=20))
            assert received_date(decided) <= deadline.legal
            longer = extended_deadline(received_date(received_at), 1)
            values.update(
                extended_by_months=1,
                extension_reason="Saken gjelder opplysninger i mange systemer, også arkivert "
                "e-post, og krever mer tid.",
                extension_notified_at=decided,
                due_strict=longer.strict,
                due_legal=longer.legal,
            )
        if scenario == "cancelled":
            cancelled_at = min(now, created_at + timedelta(days=rng.randint(3, 25)))
            values.update(
                status=RequestStatus.CANCELLED,
                cancelled_at=cancelled_at,
                notes=f"{values['notes']}\n\nAvbrutt: {rng.choice(CANCEL_REASONS)}",
                result={"cancelled": True},
            )
        if scenario.startswith("completed"):
            completed_at = min(now, values["verified_at"] + timedelta(days=rng.randint(1, 20)))
            result: dict[str, Any]
            if type_ == RequestType.ACCESS:
                result = {"bundle": None, "lang": "nb"}  # no file is written for demo data
            elif type_ == RequestType.PORTABILITY:
                result = {"export": None}
            elif type_ == RequestType.RECTIFICATION:
                result = {"rectified": [
                    {"holder": "core.Person", "row": person_id, "fields": ["family_name"]}
                ]}
            elif type_ == RequestType.RESTRICTION:
                ground = rng.choice(RestrictionGround.values)
                lifted = completed_at + timedelta(days=90)
                restrictions.append(
                    Restriction(
                        person_id=person_id,
                        ground=ground,
                        note="Registrert etter krav om begrensning.",
                        started_at=completed_at,
                        lifted_at=lifted if lifted < now else None,
                        created_by=DPO,
                    )
                )
                result = {"restriction": ground}
            elif type_ == RequestType.OBJECTION:
                activity = rng.choice(objectable)
                objections.append(
                    Objection(person_id=person_id, activity=activity, at=completed_at,
                              created_by=DPO)
                )
                result = {"objection": activity,
                          "absolute": activity == Objection.DIRECT_MARKETING}
            else:
                # Erased: the case keeps the pseudonym of someone no longer here.
                gone = uuid.UUID(int=rng.getrandbits(128), version=4)
                values.update(person_id=None, subject=pseudonym(str(gone)), notes="",
                              verification_note="")
                result = {
                    "erased": {"courses.Registration": rng.randint(1, 4),
                               "core.EmailIdentity": 1, "core.Person": 1},
                    "anonymised": {},
                    "kept": [],
                }
            values.update(status=RequestStatus.COMPLETED, completed_at=completed_at, result=result)
        requests.append(Request(**values))

    with transaction.atomic():
        Request.objects.bulk_create(requests)
        Restriction.objects.bulk_create(restrictions)
        Objection.objects.bulk_create(objections)
        if progress:
            progress(len(requests))
        audit_log(
            actor="system:demo",
            action="demo.rights_created",
            activity=ACTIVITY,
            data={
                "requests": len(requests),
                "restrictions": len(restrictions),
                "objections": len(objections),
                "as_of": today.isoformat(),
            },
            now=timezone.now(),
        )
