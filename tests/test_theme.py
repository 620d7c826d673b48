"""The bundled theme in a real browser: Debian's Chromium, driven by Playwright, with the
axe-core accessibility engine, on a phone's width and a desktop's, light and dark."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from PIL import Image

from tests.browser import ARTIFACTS, CHROMIUM, ink_share
from tests.conftest import copy_site, serve_site
from tests.helpers import THEME

playwright = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

PAGES = {
    "updates": "",
    "post": "posts/2012-12-09/",
    "tag": "tags/security/",
    "category": "categories/periodic/",
    "feeds": "feeds.html",
}
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}

# Every visible text node's line boxes; two boxes of different nodes that cover each other
# by more than a pixel each way are text drawn over text.
OVERLAPS = """
() => {
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let index = 0;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    index += 1;
    if (!node.textContent.trim()) continue;
    const style = getComputedStyle(node.parentElement);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth) {
        boxes.push({node: index, text: node.textContent.trim().slice(0, 40),
                    left: r.left, right: r.right, top: r.top, bottom: r.bottom});
      }
    }
  }
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.node === b.node) continue;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 1 && y > 1) found.push([a.text, b.text]);
    }
  }
  return found;
}
"""


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`wcitfeed serve` on a copy of the WCIT site: pages with their stylesheet, locally."""
    site = copy_site(tmp_path_factory.mktemp("theme") / "site")
    with serve_site(site) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_pages_fit_read_cleanly_and_pass_axe(
    preview: str, browser: Any, name: str, width: str
) -> None:
    size = WIDTHS[width]
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        response = page.goto(preview + PAGES[name], wait_until="load")
        assert response is not None and response.status == 200
        # The stylesheet really applied (a page without it would pass everything below).
        assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"
        assert page.evaluate("document.querySelectorAll('h1').length") == 1
        scroll = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert scroll[0] <= scroll[1], f"{name} scrolls sideways at {width}: {scroll}"
        assert page.evaluate(OVERLAPS) == []
        results = axe_playwright.Axe().run(page)
        grave = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert grave == [], grave
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"theme-{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=False)
        with Image.open(shot) as image:
            assert image.size == size
            assert ink_share(image) > 0.01
    finally:
        context.close()


def test_dark_mode_keeps_contrast(preview: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(preview + PAGES["post"], wait_until="load")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(22, 22, 21)"  # the dark palette is what was checked
        results = axe_playwright.Axe().run(page)
        contrast = [v["id"] for v in results.response["violations"] if v["impact"] == "serious"]
        assert contrast == []
        page.screenshot(path=str(ARTIFACTS / "theme-post-phone-dark.png"))
    finally:
        context.close()


def test_every_fixed_string_of_the_theme_is_in_the_french_catalogue() -> None:
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(THEME),
            method_map=[("**.html", "jinja2.ext:babel_extract")],
            options_map={"**.html": options},
        )
    }
    source = Path(THEME.parent / "translations" / "fr.po")
    with source.open("rb") as handle:
        catalogue = read_po(handle, locale="fr")
    translated = {m.id for m in catalogue if m.id and m.string and all(m.string)}
    assert found, "no strings found: the extraction itself broke"
    assert found <= translated, found - translated
