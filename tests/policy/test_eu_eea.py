"""Processors outside the EU/EEA: the policy's promise decides, and no rendered text contradicts it.

Under ``notice.processors_eu_eea_only = true`` (the shipped policy: the statement
promises EU/EEA-only processing) a processor anywhere else is an error whatever
transfer mechanism it names. Without the promise such a processor needs a
mechanism, the notice names it with its country and mechanism in nb and en, and
no free text may still speak of EU/EEA-only processing.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from personvern.cli import main
from personvern.policy import load_policy
from personvern.policy.render import render_notice
from tests.policy.helpers import DEFAULT_TEXT, edit, find, line_of, problems, write

FINN = 'id = "finn"'
SCC = 'country = "US"\ntransfer_mechanism = "standard-contractual-clauses"'
LOCATION = {
    "nb": "Vi bruker leverandører (databehandlere) og har en databehandleravtale med hver.",
    "en": "We use suppliers (processors), with a data processing agreement with each.",
}


def _without_promise(text: str, *, location: bool = True) -> str:
    text = edit(text, "processors_eu_eea_only = true", "processors_eu_eea_only = false")
    if location:  # location texts that say nothing of where the processors are
        for lang, sentence in LOCATION.items():
            text = re.sub(rf'^location\.{lang} = ".*"$', f'location.{lang} = "{sentence}"',
                          text, count=1, flags=re.M)
    return text


def _plain(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_shipped_policy_promises_eu_eea_only() -> None:
    assert load_policy().notice.processors_eu_eea_only is True


@pytest.mark.req("R7")
def test_under_the_promise_a_processor_outside_is_an_error_through_policy_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEFAULT_TEXT, 'country = "NO"', SCC, after=FINN)
    path = write(tmp_path, text)

    code = main(["policy", "check", str(path)])

    _out, err = capsys.readouterr()
    assert code == 1
    line = line_of(text, 'country = "US"')
    assert f"{path}:{line}: error: processor[0].country:" in err
    assert "promises that every processor works and stores data in the EU/EEA" in err


@pytest.mark.req("R7")
def test_under_the_promise_storage_outside_is_an_error_too(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'storage = ["NO"]', 'storage = ["NO", "US"]', after=FINN)
    text = edit(text, "placeholder = true", 'placeholder = true\ntransfer_mechanism = '
                '"adequacy-decision"', after=FINN)
    path = write(tmp_path, text)

    problem = find(problems(path), "processor[0].storage[1]")

    assert problem.line == line_of(text, 'storage = ["NO", "US"]')
    assert "stores data in US, outside the EU/EEA, but the notice promises" in problem.message


@pytest.mark.req("R7")
def test_without_the_promise_a_mechanism_is_still_required(tmp_path: Path) -> None:
    text = _without_promise(edit(DEFAULT_TEXT, 'country = "NO"', 'country = "US"', after=FINN))
    path = write(tmp_path, text)

    problem = find(problems(path), "processor[0].country")

    assert problem.line == line_of(text, 'country = "US"')
    assert "declares no transfer_mechanism" in problem.message


@pytest.mark.req("R7")
def test_without_the_promise_no_text_may_still_claim_eu_eea_only(tmp_path: Path) -> None:
    text = _without_promise(edit(DEFAULT_TEXT, 'country = "NO"', SCC, after=FINN), location=False)
    path = write(tmp_path, text)

    found = problems(path)

    for lang in ("nb", "en"):
        problem = find(found, f"notice.location.{lang}")
        assert problem.line == line_of(text, f"location.{lang} = ")
        assert "speaks of the EU/EEA, but processor 'FINN.no AS' (US)" in problem.message


@pytest.mark.req("R7")
def test_a_processor_outside_whose_name_says_eu_eea_is_an_error(tmp_path: Path) -> None:
    hosting = 'id = "hosting"'
    text = edit(DEFAULT_TEXT, 'name.nb = "', 'name.nb = "Driftsleverandør i EU/EØS, tidligere ',
                after=hosting)
    text = _without_promise(edit(text, 'country = "NO"', SCC, after=hosting))
    path = write(tmp_path, text)

    problem = find(problems(path), "processor[1].name.nb")

    assert problem.line == line_of(text, 'name.nb = "Driftsleverandør i EU/EØS')


@pytest.mark.req("R7")
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_without_the_promise_the_notice_names_the_transfer(tmp_path: Path, fmt: str) -> None:
    text = _without_promise(edit(DEFAULT_TEXT, 'country = "NO"', SCC, after=FINN))
    policy = load_policy(write(tmp_path, text))

    nb = _plain(render_notice(policy, "nb", fmt))
    en = _plain(render_notice(policy, "en", fmt))

    assert (
        "Noen av leverandørene våre arbeider fra, eller lagrer opplysninger i, land utenfor EU/EØS"
    ) in nb
    assert (
        "FINN.no AS: Jobbportal der søknadene på utlyste stillinger kommer inn og behandles (US) "
        "– utenfor EU/EØS (US), overført på grunnlag av EU-kommisjonens standard "
        "personvernbestemmelser (personvernforordningen art. 46 nr. 2 bokstav c)"
    ) in nb
    assert "Some of our suppliers work from, or store data in, countries outside the EU/EEA" in en
    assert (
        "– outside the EU/EEA (US), transferred under the European Commission's standard "
        "contractual clauses (GDPR Art. 46(2)(c))"
    ) in en
    # Nothing says that all of them work from the EU/EEA.
    assert "Alle leverandørene våre arbeider fra EU/EØS" not in nb
    assert "All of them work from the EU/EEA" not in en


@pytest.mark.req("R7")
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_under_the_promise_the_notice_says_eu_eea_and_names_no_transfer(lang: str) -> None:
    page = _plain(render_notice(load_policy(), lang, "html"))

    promise = {"nb": "Alle leverandørene våre arbeider fra EU/EØS",
               "en": "All of them work from the EU/EEA"}[lang]
    assert promise in page
    assert "utenfor EU/EØS (" not in page and "outside the EU/EEA (" not in page
