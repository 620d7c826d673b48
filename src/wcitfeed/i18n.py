"""Pages in the site's language: dates by Babel's locale data, fixed strings by catalogue.

The theme's fixed strings ("Subscribe", "Older posts") are English in the templates and
translated from the gettext catalogues in ``translations/`` (``fr.po``, …), read with
Babel. A language without a catalogue keeps the English strings but still gets its own
date format: ``language = "fr"`` gives "vendredi 14 décembre 2012, 19:00".
"""

from __future__ import annotations

import functools
import gettext
import io
from datetime import date, datetime, time
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CATALOGUES = Path(__file__).resolve().parent / "translations"


def babel_locale(language: str) -> Locale | None:
    """Return Babel's locale for a language tag such as ``fr`` or ``fr-CA`` (None if unknown)."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """Return the theme's strings in ``language``: its catalogue, else its base language's
    (``fr-CA`` falls back to ``fr``), else English."""
    locale = babel_locale(language)
    if locale is None:
        return gettext.NullTranslations()
    for name in dict.fromkeys([str(locale), locale.language]):
        path = CATALOGUES / f"{name}.po"
        if path.is_file():
            with path.open("rb") as handle:
                catalogue = read_po(handle, locale=name)
            compiled = io.BytesIO()
            write_mo(compiled, catalogue)
            compiled.seek(0)
            return gettext.GNUTranslations(compiled)
    return gettext.NullTranslations()


# Each remembered date costs ~400 bytes in every process that formats dates: 65,536 of
# them took 25 MiB in each worker of a 100,000-post build. A miss costs ~10 µs.
@functools.lru_cache(maxsize=8192)
def long_date(moment: datetime, language: str, *, timed: bool = True) -> str:
    """Format a date for people in the site's language, in the date's own offset.

    'Friday, December 7, 2012, 7:00 PM (UTC+04:00)' in English; a date written without a
    time of day is just 'Friday, December 7, 2012'. Remembered: a post's date shows on its
    page, its fragment and every listing that holds it (every date of a site of a few
    thousand posts).
    """
    # Babel would move an aware time to UTC; the wall-clock time is what the author wrote.
    wall = moment.replace(tzinfo=None)
    day = _day(wall.date(), language)
    if not timed:
        return day
    offset = moment.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{day}, {_clock(wall.time(), language)} (UTC{offset})"


# Many posts share a day, or a time of day: Babel formats each once.
@functools.lru_cache(maxsize=4096)
def _day(day: date, language: str) -> str:
    return format_date(day, "full", locale=_locale(language))


@functools.lru_cache(maxsize=4096)
def _clock(clock: time, language: str) -> str:
    return format_time(clock, "short", locale=_locale(language))


@functools.cache
def _locale(language: str) -> Locale:
    return babel_locale(language) or Locale("en")


def machine_date(moment: datetime, *, timed: bool = True) -> str:
    """Return a date as ``<time datetime>`` wants it: the day alone when no time was given."""
    return moment.isoformat() if timed else moment.date().isoformat()
