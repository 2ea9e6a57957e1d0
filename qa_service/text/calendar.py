"""The English names of months and weekdays, for reading dates and recognising them."""

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# A month written out or abbreviated ("Jun", "Sept.", "June"), for case-insensitive regexes.
MONTH_PATTERN = r"(" + "|".join(m[:3] for m in MONTHS) + r")[a-z]*\.?"
