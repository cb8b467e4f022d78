"""The translation catalogues: complete, in step with the source, and served to the right people."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from live.web.i18n import LOCALE_DIR, PLURAL_SCRIPT_MESSAGES, SCRIPT_MESSAGES, script_messages

from .conftest import REPO, LiveServer

LOCALES = ("zh_CN", "en")


def catalogue(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=locale)


def extracted_ids() -> set[str]:
    """What ``pybabel extract -F babel.cfg -k N_ .`` finds, run in-process."""
    with (REPO / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Np_": (1, 2)}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def ids(catalog: Catalog) -> set[str]:
    return {str(m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalog if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_matches_the_source(locale: str) -> None:
    source = extracted_ids()
    known = ids(catalogue(locale))
    assert not source - known, f"run pybabel extract + update: new strings {sorted(source - known)}"
    assert not known - source, f"run pybabel update: strings no longer used {sorted(known - source)}"


def test_every_chinese_string_is_translated() -> None:
    catalog = catalogue("zh_CN")
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    for message in catalog:
        if not message.id:
            continue
        assert message.string and str(message.string).strip(), f"no Chinese for {message.id!r}"
        assert "fuzzy" not in message.flags, f"fuzzy translation for {message.id!r}"
    assert list(catalog.check()) == [], "a translation does not fit its message (placeholders)"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_error_codes_read_as_sentences(language: str) -> None:
    translated = script_messages(language)
    assert set(translated) == set(SCRIPT_MESSAGES) | {plural for _, plural in PLURAL_SCRIPT_MESSAGES}
    for code in ("forbidden", "not_found", "invalid", "conflict", "rate_limited", "unavailable"):
        sentence = translated[code]
        assert sentence != code and sentence.endswith((".", "。")), f"{code!r} reads {sentence!r}"


def test_counts_come_in_each_language_s_plural_forms() -> None:
    """Pages receive a count's forms by CLDR category (what Intl.PluralRules names): English has
    "one" and "other", Chinese only "other"; no page builds "1 ballot" by hand any more."""
    assert script_messages("en")["{n} ballots"] == {"one": "{n} ballot", "other": "{n} ballots"}
    assert script_messages("zh-CN")["{n} ballots"] == {"other": "{n} 票"}
    assert script_messages("zh-CN")["{n} points"] == {"other": "{n} 分"}
    for language in ("en", "zh-CN"):
        for _, plural in PLURAL_SCRIPT_MESSAGES:
            forms = script_messages(language)[plural]
            assert isinstance(forms, dict) and all("{n}" in text for text in forms.values())
            assert script_messages(language)[plural] is forms  # worked out once, not on every page


def fetch(url: str, **headers: str) -> str:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read().decode("utf-8")


def test_pages_follow_the_language(serve_live: Callable[..., LiveServer]) -> None:
    server = serve_live()
    chinese = fetch(f"{server.url}/r/main", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in chinese
    assert "提问" in chinese and "匿名提问" in chinese
    assert "主论坛" in chinese
    assert "Ask anonymously" not in chinese

    english = fetch(f"{server.url}/r/main?lang=en", **{"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english
    assert "Ask a question" in english and "Ask anonymously" in english
    assert "Main Forum" in english
    assert "匿名提问" not in english

    # The browser scripts get their strings translated too.
    assert script_strings(chinese)["Awaiting moderation"] == "等待审核"
    assert script_strings(english)["Awaiting moderation"] == "Awaiting moderation"


def script_strings(page: str) -> dict[str, str]:
    found = re.search(r'<script id="messages" type="application/json">(.*?)</script>', page, re.S)
    assert found, "the page passes no messages to its scripts"
    return json.loads(found.group(1))  # type: ignore[no-any-return]
