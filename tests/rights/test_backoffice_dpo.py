"""Any staff role registers a privacy request for the data protection officer (R40), who
alone sees and fulfils it; the DPO's overview, the file of an access request, and the
record of processing in the back office."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from personvern.core import services as core
from personvern.core.models import AuditEntry, HoldScope, Person
from personvern.core.policy import current_policy
from personvern.core.roles import DPO, ROLE_PERMISSIONS
from personvern.rights import services
from personvern.rights.deadlines import received_date, response_deadline
from personvern.rights.models import Channel, Request, RequestStatus, RequestType
from personvern.rights.routing import request_link_person, request_register_by_staff
from personvern.rights.selfservice import available_until, bundles_expire
from personvern.worker.models import JobRun, JobRunState, OutgoingMail
from tests.rights.conftest import ACTOR, oslo

pytestmark = pytest.mark.django_db

OTHER_ROLES = sorted(role for role in ROLE_PERMISSIONS if role != DPO)
REGISTER = "/admin/rights/request/register/"
OVERVIEW = "/admin/rights/request/overview/"
ROPA = "/admin/rights/request/record-of-processing/"


def _staff(role: str, username: str | None = None, lang: str = "en") -> tuple[User, Client]:
    user = User.objects.create_user(
        username or role.replace(" ", "-"), email=f"{(username or 'x')}@jus.example",
        password="unused-pw-42", is_staff=True,
    )
    user.groups.add(Group.objects.get(name=role))
    client = Client(headers={"accept-language": lang})
    client.force_login(user)
    return user, client


def _body(mail: OutgoingMail) -> str:
    message = email.message_from_bytes(bytes(mail.message), policy=email.policy.default)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _form(received: Any, **fields: str) -> dict[str, str]:
    local = timezone.localtime(received)
    return {
        "given_name": "Kari", "family_name": "Telefon", "email": "kari.telefon@example.no",
        "type": "access", "channel": "phone", "notes": "Wants a copy of her data.",
        "received_at_0": local.date().isoformat(), "received_at_1": local.strftime("%H:%M"),
        **fields,
    }


@pytest.fixture
def data_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    settings.PERSONVERN_BASE_URL = "https://www.jus.example"
    return tmp_path


# --- Registering (R40) ------------------------------------------------------------


@pytest.mark.req("R40")
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_staff_role_registers_a_request_whose_deadline_runs_from_receipt(role: str) -> None:
    dpo, _ = _staff(DPO, "personvernombud")
    user, client = _staff(role)
    index = client.get("/admin/").content.decode()
    assert REGISTER in index and OVERVIEW not in index
    received = timezone.now() - timedelta(days=1, hours=2)
    response = client.post(REGISTER, _form(received))
    assert response.status_code == 302 and response["Location"] == "/admin/"

    request = Request.objects.get()
    assert request.channel == Channel.PHONE and request.type == RequestType.ACCESS
    assert request.received_at == received.replace(second=0, microsecond=0)
    assert request.due_legal == response_deadline(received_date(received)).legal
    assert request.created_by == f"staff:{user.username}"
    assert request.person is not None and request.person.family_name == "Telefon"
    assert AuditEntry.objects.filter(
        action="rights.request.created", actor=f"staff:{user.username}"
    ).exists()
    # The data protection officer is told, without the person's name or address.
    mail = OutgoingMail.objects.get(kind="rights-new-request")
    assert mail.recipients == dpo.email
    body = _body(mail)
    assert str(request.public_id)[:8] in body
    assert f"/admin/rights/request/{request.pk}/change/" in body
    assert "Telefon" not in body and "kari.telefon" not in body

    # The one who registered it sees no request, no person through it, and no overview.
    follow = client.get("/admin/").content.decode()
    assert str(request) in follow  # the case number, in the confirmation
    for url in (
        reverse("admin:rights_request_changelist"),
        reverse("admin:rights_request_change", args=[request.pk]),
        OVERVIEW, ROPA,
    ):
        status = client.get(url).status_code
        assert status in (302, 403), f"{url} answers {status} to {role}"
    assert "Telefon" not in client.get("/admin/core/person/").content.decode()


@pytest.mark.req("R40")
def test_a_request_without_an_address_is_registered_unlinked_and_the_dpo_links_it(
    make_person: Callable[..., Person],
) -> None:
    _user, client = _staff("course administrator")
    received = timezone.now() - timedelta(days=3)
    response = client.post(REGISTER, _form(received, email="", type="unclassified"))
    assert response.status_code == 302
    request = Request.objects.get()
    assert request.person is None and request.type == RequestType.UNCLASSIFIED
    assert "Kari Telefon" in request.notes
    assert request.due_legal == response_deadline(received_date(received)).legal

    person = make_person(email="kari.telefon@example.no")
    _dpo, dpo_client = _staff(DPO, "ombud")
    response = dpo_client.post(
        reverse("admin:rights_request_changelist"),
        {"action": "link_person", "_selected_action": [request.pk],
         "parameter": "Kari.Telefon@example.no", "index": 0},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.person == person and request.subject
    assert AuditEntry.objects.filter(action="rights.request.linked", actor="staff:ombud").exists()
    with pytest.raises(Exception, match="already concerns a person"):
        request_link_person(request=request, person=make_person(), actor=ACTOR)


@pytest.mark.req("R40")
def test_the_register_form_wants_a_name_or_address_and_a_time_not_in_the_future() -> None:
    _user, client = _staff("marketing")
    empty = client.post(
        REGISTER, _form(timezone.now(), given_name="", family_name="", email="")
    )
    assert empty.status_code == 200 and b"name or e-mail address" in empty.content
    future = client.post(REGISTER, _form(timezone.now() + timedelta(days=2)))
    assert future.status_code == 200 and b"cannot be received in the future" in future.content
    assert not Request.objects.exists()
    # The stock add page leads to the same form.
    assert client.get("/admin/rights/request/add/")["Location"] == REGISTER


@pytest.mark.req("R40")
@pytest.mark.req("R32")
def test_only_the_data_protection_officer_fulfils_a_request_registered_by_staff(
    data_dir: Any,
) -> None:
    _user, course_client = _staff("course administrator")
    course_client.post(REGISTER, _form(timezone.now() - timedelta(days=1)))
    request = Request.objects.get()
    changelist = reverse("admin:rights_request_changelist")
    refused = course_client.post(
        changelist, {"action": "fulfil", "_selected_action": [request.pk], "index": 0}
    )
    assert refused.status_code == 403
    _dpo, dpo_client = _staff(DPO, "ombud")
    for step, extra in (("verify_by_staff", {"parameter": "Called back"}), ("fulfil", {})):
        dpo_client.post(
            changelist, {"action": step, "_selected_action": [request.pk], "index": 0, **extra}
        )
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert AuditEntry.objects.filter(
        action="rights.request.completed", actor="staff:ombud"
    ).exists()


@pytest.mark.req("R40")
def test_register_by_staff_service_is_one_transaction_with_the_dpo_mail(settings) -> None:
    settings.PERSONVERN_DPO_EMAIL = "dpo@jus.example"
    received = oslo(2026, 1, 30, 16, 0)
    request = request_register_by_staff(
        type="erasure", channel="post", received_at=received, actor="staff:hr",
        given_name="Ola", family_name="Brev", email="ola@example.no", now=oslo(2026, 2, 3, 9, 0),
    )
    assert request.due_legal == response_deadline(received_date(received)).legal
    assert OutgoingMail.objects.get(kind="rights-new-request").recipients == "dpo@jus.example"
    with pytest.raises(Exception, match="name or e-mail"):
        request_register_by_staff(
            type="access", channel="phone", received_at=received, actor="staff:hr",
            now=oslo(2026, 2, 3, 9, 0),
        )
    assert Request.objects.count() == 1


# --- The data protection officer's overview ----------------------------------------


def _rows(html: str, section: str) -> list[str]:
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"<tr[^>]*>.*?</tr>", part, flags=re.S)


@pytest.mark.req("R32")
@pytest.mark.req("R10")
def test_the_overview_lists_due_requests_soonest_first_with_overdue_highlighted(
    make_request: Callable[..., Request], make_person: Callable[..., Person]
) -> None:
    now = timezone.now()
    overdue = make_request(received_at=now - timedelta(days=60), now=now)
    soon = make_request(received_at=now - timedelta(days=27), now=now)
    later = make_request(received_at=now - timedelta(hours=1), now=now)  # a month to go
    done = make_request(received_at=now - timedelta(days=90), now=now)
    services.request_cancel(request=done, actor=ACTOR)
    person = make_person()
    core.hold_place(
        scope=HoldScope.PERSON, person=person, reason="Tvist om kursavgift", actor=ACTOR
    )
    lifted = core.hold_place(
        scope=HoldScope.ACTIVITY, activity="newsletter", reason="Old lifted hold", actor=ACTOR
    )
    core.hold_lift(hold=lifted, actor=ACTOR)
    JobRun.objects.create(
        job="retention-run", slot=now - timedelta(hours=2), queued_at=now,
        state=JobRunState.FAILED, error="OperationalError: database is locked",
    )
    JobRun.objects.create(
        job="rights-intake", slot=now - timedelta(hours=1), queued_at=now,
        state=JobRunState.SUCCEEDED,
    )

    _dpo, client = _staff(DPO, "ombud")
    assert OVERVIEW in client.get("/admin/").content.decode()
    html = client.get(OVERVIEW).content.decode()

    due = _rows(html, "requests-due")[1:]  # after the header row: soonest deadline first
    for r, row in zip((overdue, soon, later), due, strict=True):
        assert str(r.public_id)[:8] in row
    assert str(done.public_id)[:8] not in html
    assert 'class="privacy-overdue"' in due[0] and "Overdue by" in due[0]
    assert 'class="privacy-due-soon"' in due[1] and "Due soon:" in due[1]
    assert "class=" not in due[2].split(">", 1)[0] and "days left" in due[2]
    assert "3 open requests in all" in html

    holds = "".join(_rows(html, "holds"))
    assert "Tvist om kursavgift" in holds and "Old lifted hold" not in holds

    processors = "".join(_rows(html, "processors"))
    for processor in current_policy().processors:
        if processor.audit_overdue(received_date(now)):
            assert processor.name_in("en") in processors
    if any(p.audit_overdue(received_date(now)) for p in current_policy().processors):
        assert "Audit overdue" in processors

    runs = _rows(html, "job-runs")[1:]
    failed = next(row for row in runs if "Retention run" in row)
    assert 'class="privacy-overdue"' in failed and "database is locked" in failed
    intake = next(row for row in runs if "Privacy requests from the intake mailbox" in row)
    assert "privacy-overdue" not in intake
    assert "1 failed run in the last 7 days" in html

    assert 'id="retention"' in html and "A retention run now would remove" in html
    assert 'id="consents"' in html


def test_the_overview_counts_consents_of_the_last_30_days(
    make_person: Callable[..., Person],
) -> None:
    from personvern.core.models import ConsentAction, ConsentEvent
    from personvern.rights.overview import consent_figures

    now = timezone.now()
    person = make_person()
    ConsentEvent.objects.create(person=person, scope="newsletter", action=ConsentAction.GIVEN,
                                channel="form", at=now - timedelta(days=2))
    ConsentEvent.objects.create(person=person, scope="newsletter",
                                action=ConsentAction.WITHDRAWN, channel="form",
                                at=now - timedelta(days=1))
    ConsentEvent.objects.create(person=person, scope="newsletter", action=ConsentAction.GIVEN,
                                channel="form", at=now - timedelta(days=45))
    figures = consent_figures(now=now)
    assert (figures.newsletter_given, figures.newsletter_withdrawn) == (1, 1)
    _dpo, client = _staff(DPO, "ombud")
    html = client.get(OVERVIEW).content.decode()
    consents = html.split('id="consents"', 1)[1].split("</section>", 1)[0]
    assert re.search(r"Newsletter consents given</dt><dd>1<", consents)


def test_the_overview_is_norwegian_with_norwegian_dates(
    make_request: Callable[..., Request],
) -> None:
    now = timezone.now()
    overdue = make_request(received_at=now - timedelta(days=60), now=now)
    _dpo, client = _staff(DPO, "ombud", lang="nb")
    html = client.get(OVERVIEW).content.decode()
    assert "Personvernoversikt" in html and "Forsinket med" in html
    from django.utils import translation

    from personvern.site.templatetags.site_tags import day

    with translation.override("nb"):
        assert day(overdue.due_legal) in html  # "3. desember 2026"
    assert re.search(r"\d{1,2}\. [a-zæøå]+ \d{4}", html)


# --- The file of an access request, and telling the person ---------------------------


@pytest.mark.req("R33")
def test_the_dpo_downloads_the_file_and_makes_it_available_again_on_min_side(
    data_dir: Any, make_request: Callable[..., Request],
) -> None:
    request = make_request(verified=True, received_at=timezone.now() - timedelta(days=2),
                           now=timezone.now())
    services.request_fulfil(request=request, actor=ACTOR, lang="en")
    request.refresh_from_db()
    assert OutgoingMail.objects.filter(kind="rights-bundle-ready").count() == 1

    _dpo, client = _staff(DPO, "ombud")
    change = client.get(reverse("admin:rights_request_change", args=[request.pk]))
    file_url = f"/admin/rights/request/{request.pk}/file/"
    assert file_url in change.content.decode()
    download = client.get(file_url)
    assert download.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert AuditEntry.objects.filter(
        action="rights.request.file_downloaded_by_staff", actor="staff:ombud"
    ).count() == 1
    _other, course_client = _staff("course administrator")
    assert course_client.get(file_url).status_code == 403

    # Past its period the file is deleted; the DPO makes it available again and tells the person.
    later = timezone.now() + timedelta(days=31)
    assert bundles_expire(now=later) == 1
    assert client.get(file_url).status_code == 404
    response = client.post(
        reverse("admin:rights_request_changelist"),
        {"action": "publish_file", "_selected_action": [request.pk], "index": 0, "lang": "en"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert "file_deleted" not in request.result and "file_remade" in request.result
    assert request.file_available_from is not None
    until = available_until(request)
    assert until is not None and until > timezone.now() + timedelta(days=29)
    assert client.get(file_url).status_code == 200
    mails = OutgoingMail.objects.filter(kind="rights-bundle-ready").order_by("pk")
    assert mails.count() == 2 and "/me/" in _body(mails.last())  # type: ignore[arg-type]
    entry = AuditEntry.objects.get(action="rights.request.file_published")
    assert entry.actor == "staff:ombud" and entry.data["remade"] is True
    # Not expired again by the next expiry run: the period runs from the new publication.
    assert bundles_expire(now=timezone.now() + timedelta(days=2)) == 0


def test_only_a_fulfilled_file_request_can_be_made_available(
    data_dir: Any, make_request: Callable[..., Request],
) -> None:
    from personvern.rights.selfservice import bundle_publish

    request = make_request(type="erasure", verified=True)
    with pytest.raises(Exception, match="has no file"):
        bundle_publish(request=request, actor=ACTOR)
    assert not AuditEntry.objects.filter(action="rights.request.file_published").exists()


# --- The record of processing -----------------------------------------------------


@pytest.mark.req("R10")
def test_the_record_of_processing_is_shown_to_the_dpo_in_both_parts_and_downloads() -> None:
    policy = current_policy()
    _dpo, client = _staff(DPO, "ombud")
    assert ROPA in client.get("/admin/").content.decode()
    html = client.get(ROPA).content.decode()
    controller = html.split('id="ropa-controller"', 1)[1].split("</section>", 1)[0]
    processor = html.split('id="ropa-processor"', 1)[1].split("</section>", 1)[0]
    for activity in policy.controller_activities:
        assert f'id="activity-{activity.id}"' in controller
    for activity in policy.processor_activities:
        assert f'id="activity-{activity.id}"' in processor
    assert "Legal basis" in html and "Time limits for erasure" in html

    nb = _staff(DPO, "ombud2", lang="nb")[1].get(ROPA).content.decode()
    assert "Behandlingsprotokoll" in nb and "Behandlingsgrunnlag" in nb
    assert policy.controller_activities[0].title.get("nb") in nb

    response = client.get(f"{ROPA}csv/?lang=en")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(policy.controller_activities) + len(policy.processor_activities)
    xlsx = client.get(f"{ROPA}xlsx/?lang=nb")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(f"{ROPA}json-ld/").status_code == 200
    assert client.get(f"{ROPA}pdf/").status_code == 404


def test_the_overview_keeps_the_forecast_an_hour_and_recalculates_it_on_demand() -> None:
    from django.core.cache import cache

    from personvern.rights.overview import FORECAST_CACHE_KEY, ForecastSummary

    _dpo, client = _staff(DPO, "ombud")
    client.get(OVERVIEW)
    first = cache.get(FORECAST_CACHE_KEY)
    assert isinstance(first, ForecastSummary)
    client.get(OVERVIEW)
    assert cache.get(FORECAST_CACHE_KEY).as_of == first.as_of  # kept, not made again
    response = client.post(OVERVIEW, {"refresh": "forecast"})
    assert response.status_code == 302 and response["Location"].endswith("#retention")
    assert cache.get(FORECAST_CACHE_KEY).as_of > first.as_of
    _user, other = _staff("marketing")
    assert other.post(OVERVIEW, {"refresh": "forecast"}).status_code == 403
