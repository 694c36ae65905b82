"""`personvern newsletter opt-outs` (R18): opt-outs relayed by a member organisation."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest

from personvern.core import services as core
from personvern.newsletter import cli, services
from personvern.newsletter.models import Subscription

pytestmark = pytest.mark.django_db


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.mark.req("R18")
def test_opt_outs_from_the_bar_association_unsubscribe_its_members(tmp_path: Path) -> None:
    person = core.person_create(email="advokat@example.no", actor="t")
    core.membership_add(
        person=person, organisation="advokatforeningen", valid_from=date(2020, 1, 1), actor="t"
    )
    services.newsletter_subscribe(
        person=person, source="member-organisation", organisation="advokatforeningen", actor="t"
    )
    file = tmp_path / "avmeldinger.txt"
    file.write_text("# fra medlemssiden\nAdvokat@example.no\nukjent@example.no\n")

    assert _run("newsletter", "opt-outs", str(file), "--channel", "advokatforeningen") == 0
    subscription = Subscription.objects.get(person=person)
    assert subscription.status == "unsubscribed"
    assert subscription.unsubscribe_channel == "advokatforeningen"


def test_a_bad_line_names_file_and_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    person = core.person_create(email="a@example.no", actor="t")
    services.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    file = tmp_path / "opt-outs.txt"
    file.write_text("a@example.no\nikke-en-adresse\n")

    assert _run("newsletter", "opt-outs", str(file), "--channel", "juristforbundet") == 1
    assert f"{file}, line 2" in capsys.readouterr().err
    assert Subscription.objects.get(person=person).status == "active"


@pytest.mark.req("R16")
def test_send_command_mails_the_newsletter_and_refuses_what_it_cannot(smtp_server, capsys):
    from personvern.newsletter.models import Newsletter

    for name in ("a", "b"):
        person = core.person_create(email=f"{name}@example.no", actor="t")
        services.newsletter_subscribe(person=person, source="form", text_version="v1",
                                      actor="t")
    newsletter = services.newsletter_create(subject="Vårens kurs", actor="t")

    assert _run("newsletter", "send", str(newsletter.pk)) == 1  # no text yet
    assert "body: A newsletter needs a text" in capsys.readouterr().err
    Newsletter.objects.filter(pk=newsletter.pk).update(body="Velkommen til vårens kurs.")

    assert _run("newsletter", "send", str(newsletter.pk), "--batch-size", "1") == 0
    assert "2 copies" in capsys.readouterr().out
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == ["a@example.no",
                                                                       "b@example.no"]
    assert _run("newsletter", "send", str(newsletter.pk)) == 1
    assert "already been sent" in capsys.readouterr().err
    assert _run("newsletter", "send", "999999") == 2
    assert _run("newsletter", "send", str(newsletter.pk), "--batch-size", "0") == 2
