"""Template filters of the public course pages: hours, prices and places as a
participant reads them, in the active language (see ``courses.mails``). Dates
and times use the site's filters (``{% load site_tags %}``: ``day_range``…)."""

from __future__ import annotations

import re
from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from personvern.courses import mails
from personvern.courses.models import Venue

register = template.Library()

#: A Norwegian postcode and the place after it: "0164 Oslo".
_POSTCODE_PLACE = re.compile(r"\b\d{4}\s+([^\d,\n]+?)\s*$")


@register.filter
def hours(value: Decimal) -> str:
    """3.00 as "3", 1.50 as "1,5" (nb) or "1.5" (en)."""
    return mails.format_hours(value)


@register.filter
def nok(price: Decimal) -> str:
    """"kr 4 500" (nb), "NOK 4,500" (en); free of charge for nothing."""
    return mails.format_price(price)


@register.filter
def city(venue: Venue | None) -> str:
    """The place of a venue's address ("Oslo" of "Kristian Augusts gate 9, 0164 Oslo")."""
    if venue is None:
        return _("Digital")
    match = _POSTCODE_PLACE.search(venue.address.strip())
    return match.group(1) if match else ""
