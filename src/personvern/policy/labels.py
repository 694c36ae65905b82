"""Translatable labels for the fixed vocabulary of the policy (bases, anchors, cohorts).

The policy file carries its own nb/en texts; what the code itself defines
(Art. 6(1) letters, anchor events, cohorts, cookie categories) is translated
through this app's gettext catalogue.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

BASIS_LABELS: dict[str, Promise] = {
    "a": _("Consent (GDPR Art. 6(1)(a))"),
    "b": _("Contract, or steps taken at your request before a contract (GDPR Art. 6(1)(b))"),
    "c": _("Legal obligation (GDPR Art. 6(1)(c))"),
    "d": _("Vital interests (GDPR Art. 6(1)(d))"),
    "e": _("Task in the public interest (GDPR Art. 6(1)(e))"),
    "f": _("Legitimate interest (GDPR Art. 6(1)(f))"),
}

BASIS_SHORT: dict[str, Promise] = {
    "a": _("consent"),
    "b": _("contract"),
    "c": _("legal obligation"),
    "d": _("vital interests"),
    "e": _("public task"),
    "f": _("legitimate interest"),
}

#: "Kept for 5 years <after the event>".
ANCHOR_AFTER: dict[str, Promise] = {
    "course-end": _("after the course has ended"),
    "customer-relationship-end": _("after the customer relationship has ended"),
    "received": _("after we received it"),
    "recruitment-closed": _("after the recruitment process is over"),
    "employment-end": _("after the employment has ended"),
    "competition-end": _("after the competition has ended"),
    "fiscal-year-end": _("after the end of the fiscal year"),
    "withdrawn": _("after you withdraw your consent or unsubscribe"),
    "last-contact": _("after our last contact with you"),
    "sent": _("after it was sent"),
    "membership-end": _("after the membership has ended"),
    "inquiry-closed": _("after the inquiry was closed"),
    "agreed-term-end": _("after the term agreed with the organisation has run out"),
}

#: "Kept <until the event>" (a rule that keeps nothing after its anchor).
ANCHOR_UNTIL: dict[str, Promise] = {
    "course-end": _("until the course has ended"),
    "customer-relationship-end": _("until the customer relationship ends"),
    "received": _("until we receive it"),
    "recruitment-closed": _("until the recruitment process is over"),
    "employment-end": _("until the employment ends"),
    "competition-end": _("until the competition has ended"),
    "fiscal-year-end": _("until the end of the fiscal year"),
    "withdrawn": _("until you withdraw your consent or unsubscribe"),
    "last-contact": _("until our last contact with you"),
    "sent": _("until it is sent"),
    "membership-end": _("until the membership ends"),
    "inquiry-closed": _("until the inquiry is closed"),
    "agreed-term-end": _("until the end of the term agreed with the organisation"),
}

COHORT_LABELS: dict[str, Promise] = {
    "advokatforeningen-member": _("Members of Advokatforeningen"),
    "open-application": _("Open (unsolicited) applications"),
    "posted-position": _("Applications for an advertised position"),
    "hired": _("Applicants we hire"),
    "closed-inquiry": _("Closed inquiries"),
    "agreed-term": _("Organisations we have agreed a retention term with"),
}

#: Label of a rule without cohort when the activity's other rules have cohorts.
EVERYONE_ELSE = _("Everyone else")

KEPT_FOR_DELETE = _("Kept for %(duration)s %(after)s, then deleted.")
KEPT_FOR_ANONYMISE = _("Kept for %(duration)s %(after)s, then anonymised.")
KEPT_UNTIL_DELETE = _("Kept %(until)s, then deleted.")
KEPT_UNTIL_ANONYMISE = _("Kept %(until)s, then anonymised.")

COOKIE_CATEGORIES: dict[str, Promise] = {
    "necessary": _("Strictly necessary"),
    "preferences": _("Preferences"),
    "analytics": _("Analytics"),
}

CHANNELS: dict[str, Promise] = {
    "email": _("e-mail"),
    "post": _("post"),
    "form": _("the form on the website"),
}

RECIPIENT_KINDS: dict[str, Promise] = {
    "processor": _("processor"),
    "controller": _("controller"),
    "third-party": _("third party"),
    "public-authority": _("public authority"),
}

ROLE_LABELS: dict[str, Promise] = {
    "controller": _("controller"),
    "processor": _("processor"),
}

#: "transferred under <mechanism>": the GDPR chapter V basis of a transfer.
TRANSFER_MECHANISM_LABELS: dict[str, Promise] = {
    "adequacy-decision": _("an adequacy decision of the European Commission (GDPR Art. 45)"),
    "binding-corporate-rules": _("binding corporate rules (GDPR Art. 46(2)(b))"),
    "standard-contractual-clauses": _(
        "the European Commission's standard contractual clauses (GDPR Art. 46(2)(c))"
    ),
    "code-of-conduct": _("an approved code of conduct (GDPR Art. 46(2)(e))"),
    "certification": _("an approved certification (GDPR Art. 46(2)(f))"),
    "explicit-consent": _("your explicit consent (GDPR Art. 49(1)(a))"),
}
