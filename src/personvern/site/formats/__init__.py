"""Date and time formats of the site's two languages (``FORMAT_MODULE_PATH``).

Only the display formats are set here; everything else (input formats, first
day of the week) falls back to Django's own locale files. Both languages use a
24-hour clock and spell the month out, so no date is ambiguous ("04/19/2027")
and no time says "p.m.".
"""
