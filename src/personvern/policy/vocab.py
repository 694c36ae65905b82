"""Fixed vocabularies the policy file refers to.

Anchors and cohorts are names that domain apps implement (a holder offers a
date for an anchor and a filter for a cohort), so the policy may only use the
ones the code knows. DPV terms come from the W3C Data Privacy Vocabulary 2.3
list shipped beside this module, so the record of processing never emits an
IRI that does not exist.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

#: Named events a retention period can run from.
ANCHORS: frozenset[str] = frozenset(
    {
        "course-end",
        "customer-relationship-end",
        "received",
        "recruitment-closed",
        "employment-end",
        "competition-end",
        "fiscal-year-end",
        "withdrawn",
        "last-contact",
        "sent",
        # The processor role for Advokatforeningen ends with the membership.
        "membership-end",
        # R15: a closed inquiry is no longer relevant.
        "inquiry-closed",
        # R22: a retention term agreed with a customer, partner or supplier.
        "agreed-term-end",
    }
)

#: Named subsets of an activity's rows that get a retention rule of their own.
COHORTS: frozenset[str] = frozenset(
    {
        "advokatforeningen-member",
        "open-application",
        "posted-position",
        "hired",
        "closed-inquiry",
        "agreed-term",
    }
)

#: GDPR Art. 6(1) letters.
BASES: tuple[str, ...] = ("a", "b", "c", "d", "e", "f")

#: EU member states and the three EEA EFTA states (ISO 3166-1 alpha-2).
EU_EEA: frozenset[str] = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
        "IS", "LI", "NO",
    }
)  # fmt: skip

#: Transfer mechanisms for a processor or storage outside the EU/EEA (GDPR ch. V),
#: with the DPV eu-gdpr term for each.
TRANSFER_MECHANISMS: dict[str, str] = {
    "adequacy-decision": "eu-gdpr:A45-3",
    "binding-corporate-rules": "eu-gdpr:A46-2-b",
    "standard-contractual-clauses": "eu-gdpr:A46-2-c",
    "code-of-conduct": "eu-gdpr:A46-2-e",
    "certification": "eu-gdpr:A46-2-f",
    "explicit-consent": "eu-gdpr:A49-1-a",
}

#: Prefixes of the compact IRIs the policy file and the JSON-LD use.
DPV_PREFIXES: dict[str, str] = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "legal-no": "https://w3id.org/dpv/legal/no#",
    "loc": "https://w3id.org/dpv/loc#",
}

DPV_TERMS_PATH = Path(__file__).with_name("dpv-2.3-terms.tsv")


@lru_cache(maxsize=1)
def dpv_terms() -> frozenset[str]:
    """Every term IRI of DPV 2.3 (dpv, pd, eu-gdpr, legal-no, loc) in the shipped list."""
    terms: set[str] = set()
    with DPV_TERMS_PATH.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(("#", "iri\t")) or not line.strip():
                continue
            terms.add(line.split("\t", 1)[0])
    return frozenset(terms)


def expand_iri(compact: str) -> str:
    """Expand ``pd:Name`` to its full IRI (full IRIs pass through)."""
    prefix, sep, local = compact.partition(":")
    if sep and prefix in DPV_PREFIXES:
        return DPV_PREFIXES[prefix] + local
    return compact


def is_dpv_term(compact_or_full: str) -> bool:
    """Whether the (compact or full) IRI is a DPV 2.3 term of the shipped list."""
    return expand_iri(compact_or_full) in dpv_terms()


#: Country names (nb, en) for the EU/EEA states, for the notice's processor list.
COUNTRY_NAMES: dict[str, tuple[str, str]] = {
    "AT": ("Østerrike", "Austria"), "BE": ("Belgia", "Belgium"), "BG": ("Bulgaria", "Bulgaria"),
    "HR": ("Kroatia", "Croatia"), "CY": ("Kypros", "Cyprus"), "CZ": ("Tsjekkia", "Czechia"),
    "DK": ("Danmark", "Denmark"), "EE": ("Estland", "Estonia"), "FI": ("Finland", "Finland"),
    "FR": ("Frankrike", "France"), "DE": ("Tyskland", "Germany"), "GR": ("Hellas", "Greece"),
    "HU": ("Ungarn", "Hungary"), "IE": ("Irland", "Ireland"), "IT": ("Italia", "Italy"),
    "LV": ("Latvia", "Latvia"), "LT": ("Litauen", "Lithuania"),
    "LU": ("Luxembourg", "Luxembourg"), "MT": ("Malta", "Malta"),
    "NL": ("Nederland", "the Netherlands"), "PL": ("Polen", "Poland"),
    "PT": ("Portugal", "Portugal"), "RO": ("Romania", "Romania"), "SK": ("Slovakia", "Slovakia"),
    "SI": ("Slovenia", "Slovenia"), "ES": ("Spania", "Spain"), "SE": ("Sverige", "Sweden"),
    "IS": ("Island", "Iceland"), "LI": ("Liechtenstein", "Liechtenstein"),
    "NO": ("Norge", "Norway"),
}  # fmt: skip


def country_name(code: str, lang: str) -> str:
    """The country's name in nb or en (the code itself outside the EU/EEA)."""
    names = COUNTRY_NAMES.get(code)
    if names is None:
        return code
    return names[0] if lang == "nb" else names[1]
