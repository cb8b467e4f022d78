"""The pages' scripts are ES modules (web/static/lib/): every module a page imports, however deep,
is named in its template's modulepreload links, so the browser fetches them all at once instead
of discovering them one import after another (module scripts only run once all are in)."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import REPO

STATIC = REPO / "web" / "static"
IMPORT = re.compile(r'^import (?:[^"\n]*from )?"([^"]+)";', re.M)


def imported(module: Path, found: set[Path]) -> set[Path]:
    for target in IMPORT.findall(module.read_text("utf-8")):
        path = (module.parent / target).resolve()
        assert path.is_file(), f"{module.name} imports {target}, which is not there"
        if path not in found:
            found.add(path)
            imported(path, found)
    return found


def test_every_page_preloads_the_modules_it_imports() -> None:
    pages = 0
    for template in sorted((REPO / "web" / "templates").glob("*.html")):
        text = template.read_text("utf-8")
        scripts = [STATIC / name for name in re.findall(r'<script type="module" src="/static/([\w/]+\.js)"', text)]
        if not scripts:
            continue
        pages += 1
        needed: set[Path] = set()
        for script in scripts:
            imported(script.resolve(), needed)
        needed -= {script.resolve() for script in scripts}
        preloaded = {
            (STATIC / name).resolve()
            for name in re.findall(r'<link rel="modulepreload" href="/static/([\w/]+\.js)">', text)
        }
        assert preloaded == needed, (template.name, sorted(p.name for p in needed ^ preloaded))
    assert pages >= 8


def test_no_page_script_is_a_classic_script_but_the_vendored_libraries() -> None:
    for template in (REPO / "web" / "templates").glob("*.html"):
        for source in re.findall(r'<script src="([^"]+)"', template.read_text("utf-8")):
            assert source.startswith("/static/vendor/"), (template.name, source)
