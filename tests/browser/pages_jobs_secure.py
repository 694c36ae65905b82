"""Pages of the open job application and the secure-message answer, for the axe checks.

Scanning is off in these checks (no clamd): the files are stored unscanned, as
in development; the scan itself is tested in test_jobs_apply.py.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.openers import Opener, goto, seq

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _apply_errors(page: Page, base: str, lang: str) -> None:
    goto("/jobs/apply/")(page, base, lang)
    page.locator("#id_email").fill("not an address")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_email_error")).to_be_visible()
    expect(page.locator("#id_cv_error")).to_be_visible()


def _applied(page: Page, base: str, lang: str) -> None:
    goto("/jobs/apply/")(page, base, lang)
    page.locator("#id_given_name").fill("Kari")
    page.locator("#id_family_name").fill("Nordmann")
    page.locator("#id_email").fill(f"soker{next(seq)}@example.no")
    page.locator("#id_message").fill("Jeg ser etter arbeid innen personvernrett.")
    page.locator("#id_cv").set_input_files(
        {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.locator("#id_letter").set_input_files(
        {"name": "brev.txt", "mimeType": "text/plain", "buffer": b"Hei!\n"})
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/jobs/apply/received/")


def _secure_privacy_chosen(page: Page, base: str, lang: str) -> None:
    goto("/secure-message/")(page, base, lang)
    page.locator("input[name=topic][value=privacy]").check()


def _secure_privacy_with_file(page: Page, base: str, lang: str) -> None:
    """A privacy question with a file: refused next to the file field."""
    _secure_privacy_chosen(page, base, lang)
    page.locator("#id_email").fill("kari@example.no")
    page.locator("#id_subject").fill("Innsyn")
    page.locator("#id_message").fill("Hva har dere om meg?")
    page.locator("#id_attachment").set_input_files(
        {"name": "pass.txt", "mimeType": "text/plain", "buffer": b"Kopi\n"})
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_attachment_error")).to_be_visible()


def _secure_sent(topic: str) -> Opener:
    def open_(page: Page, base: str, lang: str) -> None:
        goto("/secure-message/")(page, base, lang)
        page.locator(f"input[name=topic][value={topic}]").check()
        page.locator("#id_email").fill(f"kari{next(seq)}@example.no")
        page.locator("#id_subject").fill("Spørsmål")
        page.locator("#id_message").fill("Hei, jeg har et spørsmål.")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/secure-message/sent/?case=*")
        expect(page.locator("#case-number")).to_be_visible()

    return open_


PAGES: dict[str, Opener] = {
    "open job application form": goto("/jobs/apply/"),
    "open job application form with errors": _apply_errors,
    "open job application receipt": _applied,
    "secure message form, privacy topic chosen": _secure_privacy_chosen,
    "secure message form, privacy question with a file refused": _secure_privacy_with_file,
    "secure message sent, inquiry case number": _secure_sent("invoice"),
    "secure message sent, privacy request case number": _secure_sent("privacy"),
}
