"""English date formats for tiplab: ISO dates (2026-12-03), never the US month/day order
that Django's "en" uses (12/03/2026 reads as 12 March in most of the world). French and
Spanish keep Django's own (03/12/2026)."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
