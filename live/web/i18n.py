"""Languages: gettext catalogues (Babel .po files under live/locale), chosen per request.

The .po files are the source of truth and are compiled in memory at start, so there is no
build step to forget. ``pybabel extract`` finds strings in templates and in this package.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

from ..domain.reasons import EVERY_MESSAGE as REFUSAL_REASONS

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}  # what pages offer -> catalogue folder
LANGUAGE_COOKIE = "lang"


def N_(message: str) -> str:
    """Marks a string for extraction where it is translated later (e.g. in the browser)."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a count's two English forms for extraction (``-k Np_:1,2``), translated later."""
    return singular, plural


# Strings the browser scripts show; each page receives them translated.
SCRIPT_MESSAGES = [
    N_("Connecting…"),
    N_("Live"),
    N_("Reconnecting…"),
    N_("The page was out of date and has been reloaded."),
    N_("Awaiting moderation"),
    N_("Now answering"),
    N_("Answered"),
    N_("Upvote"),
    N_("votes"),
    N_("Anonymous"),
    N_("Your question was sent."),
    N_("Approve"),
    N_("Dismiss"),
    N_("Restore"),
    N_("Highlight"),
    N_("Mark answered"),
    N_("Star"),
    N_("Unstar"),
    N_("Edit"),
    N_("Reply"),
    N_("Save"),
    N_("Cancel"),
    N_("Reply from the moderator"),
    N_("Vote"),
    N_("Your vote was counted."),
    N_("Results are shown when the moderator reveals them."),
    N_("Results appear when the poll closes."),
    N_("Open"),
    N_("Close"),
    N_("Reveal results"),
    N_("Delete"),
    N_("No questions yet."),
    N_("Edited; original:"),
    N_("Something went wrong."),
    # poll results and the screens (which show them in both languages)
    N_("Average rating"),
    N_("Fastest correct answers"),
    N_("No correct answers yet."),
    N_("Poll"),
    N_("Quiz"),
    N_("Word cloud"),
    N_("Rating"),
    N_("Open question"),
    N_("No words yet."),
    N_("Approved answers appear here."),
    N_("Vote now at"),
    N_("This poll is closed."),
    N_("Scan to ask questions and vote"),
    N_("Room code"),
    N_("QR code for the room page"),
    N_("Now"),
    N_("Next"),
    N_(", "),
    N_("People following along"),
    N_("forbidden"),
    N_("not_found"),
    N_("invalid"),
    N_("conflict"),
    N_("rate_limited"),
    N_("Too often: try again in {seconds} s."),
    N_("unavailable"),
    N_("unknown_outcome"),
    N_("{message} ({detail})"),  # an error and why: "That was not accepted… (a choice poll needs…)"
    N_("No answer from the server yet: trying again…"),
    # ranking polls (ranking.js) and quiz series (quiz.js)
    N_("Ranking"),
    N_("Your ranking"),
    N_("Put the options in order: your favourite first."),
    N_("Move {option} up"),
    N_("Move {option} down"),
    N_("{option}: place {n}"),
    N_("Quiz leaderboard"),
    N_("No points yet."),
    N_("Your place: {place} of {players} · {points}"),
    N_("Your name"),
    N_("Name for the quiz leaderboard"),
    N_("Save name"),
    N_("Play anonymously"),
    N_("Type a name first."),
    *REFUSAL_REASONS,  # why a command was refused: live/domain/reasons.py
]

# Counts the browser scripts put in words, "{n}" standing for the number. Each page receives, under
# the plural msgid, the text for every CLDR plural category of its language ({"one": …, "other": …});
# web/static/lib/i18n.js picks one with the browser's Intl.PluralRules, so no page writes "1 ballot" by hand.
PLURAL_SCRIPT_MESSAGES = [
    Np_("{n} ballot", "{n} ballots"),
    Np_("{n} point", "{n} points"),
]


@cache
def translations(language: str) -> gettext.NullTranslations:
    folder = LANGUAGES.get(language)
    po_path = LOCALE_DIR / (folder or "") / "LC_MESSAGES" / "messages.po"
    if folder is None or not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as source:
        catalog = read_po(source, locale=folder)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def script_messages(language: str) -> dict[str, str | dict[str, str]]:
    translate = translations(language).gettext
    messages: dict[str, str | dict[str, str]] = {message: translate(message) for message in SCRIPT_MESSAGES}
    for singular, plural in PLURAL_SCRIPT_MESSAGES:
        messages[plural] = plural_forms(language, singular, plural)
    return messages


@cache
def plural_forms(language: str, singular: str, plural: str) -> dict[str, str]:
    """The catalogue's forms of a count by CLDR category, which is what the browser's
    Intl.PluralRules names: for each category the language has, a number of that category is
    put through gettext's own plural rule (the catalogue's Plural-Forms header). Worked out once
    (200 numbers tried): every page render asks for each language's. Shared, so never changed."""
    rule = Locale.parse(LANGUAGES.get(language, "en")).plural_form
    translate = translations(language).ngettext
    forms: dict[str, str] = {}
    for number in range(0, 200):
        category = rule(number)
        if category not in forms:
            forms[category] = translate(singular, plural, number)
    return forms


def choose_language(connection: HTTPConnection, default: str) -> str:
    """An explicit choice (?lang= or the cookie) wins; then the browser's Accept-Language."""
    for chosen in (connection.query_params.get("lang"), connection.cookies.get(LANGUAGE_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    header = connection.headers.get("accept-language", "")
    for part in header.split(","):  # in the browser's order of preference; q-values are rarely out of order
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default
