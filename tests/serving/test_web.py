"""Issue 20: the web app in a real browser (Debian's Chromium, driven by Playwright) against a
running service on the bundled history with a trained champion. Every page renders with no
console error and no request leaving 127.0.0.1; charts draw marks; sign-in, sign-out, a
recipe's life as an editor and a what-if work end to end. A failing test leaves a screenshot
in test-artifacts/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import text

from apps.recipes import seed
from serving.auth import create_user
from serving.settings import ServiceSettings
from tests.serving.test_voting import LiveServer
from warehouse.db import make_engine

playwright = pytest.importorskip("playwright.sync_api")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"


def chromium() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if found is None:
        pytest.fail("no Chromium: `apt-get install -y chromium` (.ci/run does), or CHROMIUM_PATH")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium(), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def site(aliases, history_file: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The service on a private copy of the bundled history (recipes seeded, an editor), the
    session registry's published features and models (champion post_quali v2)."""
    aliases(champion="2", challenger=None)
    warehouse = tmp_path / "warehouse.db"
    shutil.copy(history_file, warehouse)
    engine = make_engine(f"sqlite:///{warehouse}")
    seed(engine)
    create_user(engine, "editor@example.org", PASSWORD, "editor")
    settings = ServiceSettings(
        database_url=f"sqlite:///{warehouse}",
        jwt_secret="w" * 40,
        ab_share=0.0,
        mlflow_url="http://127.0.0.1:5000",
    )
    with LiveServer(settings) as base:
        yield {"base": base, "engine": engine}
    engine.dispose()


@pytest.fixture
def page(browser, site, request: pytest.FixtureRequest) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A fresh browser page that records console errors and refuses (and records) any request
    to another host; a screenshot is kept when the test fails."""
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    outside: list[str] = []
    errors: list[str] = []

    def guard(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", None):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []
    # a request cut short by the next navigation (ERR_ABORTED) is not a failure
    tab.on(
        "requestfailed",
        lambda r: failed.append(r.url) if "ERR_ABORTED" not in (r.failure or "") else None,
    )
    tab.outside, tab.errors, tab.failed = outside, errors, failed
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def _visit(page: Any, url: str) -> None:
    answer = page.goto(url)
    assert answer is not None and answer.status == 200, f"{url}: {answer and answer.status}"


def _clean(page: Any) -> None:
    assert (page.errors, page.outside, page.failed) == ([], [], [])


def _refused(page: Any, status: str) -> None:
    """The browser reported the one refusal the test asked for (a 4xx is logged as such), and
    nothing else went wrong."""
    assert page.errors == [
        f"Failed to load resource: the server responded with a status of {status}"
    ]
    page.errors.clear()


def _marks(page: Any, figures: int = 1) -> None:
    """At least `figures` charts drew marks (paths or symbols inside an SVG)."""
    marks = page.locator(
        "figure.chart-box .chart svg .role-mark path, figure.chart-box .chart svg .role-mark rect"
    )
    marks.first.wait_for(timeout=15_000)
    drawn = page.locator("figure.chart-box .chart svg")
    assert drawn.count() >= figures
    assert marks.count() > 0


def test_every_page_renders_with_real_data(page, site) -> None:  # type: ignore[no-untyped-def]
    base = site["base"]
    _visit(page, f"{base}/")
    assert page.locator("h1").inner_text() == "Next race"
    # the bundled history ends in 2024: no next race, and the last race against its result
    assert "no upcoming race is known" in page.locator(".notice").inner_text()
    last = page.locator("#last-race").inner_text()
    assert "2024 Abu Dhabi Grand Prix" in last
    assert page.locator("table.numbers tbody tr").count() == 20
    assert page.get_by_role("link", name="MLflow").get_attribute("href") == "http://127.0.0.1:5000"
    _clean(page)

    _visit(page, f"{base}/season/2024")
    rows = page.locator("table.numbers tbody tr")
    assert rows.count() == 24 and page.locator(".status-result-in").count() == 24
    _clean(page)

    _visit(page, f"{base}/races/2024/24")
    _marks(page, figures=3)  # pre_quali, post_quali bars and the heat map
    assert page.locator("#stage-post_quali").inner_text() == "post_quali"
    first = page.locator("section[aria-labelledby=stage-post_quali] table tbody tr").first
    assert "%" in first.inner_text()
    assert (
        page.locator("section[aria-labelledby=result] tbody tr").first.inner_text().startswith("1")
    )
    _clean(page)

    _visit(page, f"{base}/drivers/hamilton")
    assert page.locator("h1").inner_text() == "Lewis Hamilton"
    _marks(page)
    assert page.locator("table.numbers").nth(1).locator("tbody tr").count() == 20
    _clean(page)

    _visit(page, f"{base}/recipes")
    cards = page.locator(".cards li")
    assert cards.count() > 0
    cards.first.locator("a").click()
    page.wait_for_load_state()
    assert page.locator("#ingredients li").count() > 0
    _clean(page)

    _visit(page, f"{base}/docs")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    _clean(page)
    _visit(page, f"{base}/redoc")
    page.get_by_text("Win probabilities for every Formula 1 race").first.wait_for(timeout=20_000)
    _clean(page)

    missing = page.goto(f"{base}/races/2024/30")
    assert missing is not None and missing.status == 404
    assert "no race 2024 round 30" in page.locator(".errors").inner_text()


def test_what_if_moves_the_probabilities(page, site) -> None:  # type: ignore[no-untyped-def]
    _visit(page, f"{site['base']}/races/2024/24")
    table = page.locator("section[aria-labelledby=stage-post_quali] table tbody tr")
    before = {
        row.locator("td").nth(0).inner_text(): float(row.locator("td").nth(2).inner_text()[:-1])
        for row in table.all()
    }
    slots = page.locator("ol.slots input")
    count = slots.count()
    last_driver = page.locator("ol.slots label").nth(count - 1).inner_text()
    for i in range(count):  # the grid reversed
        slots.nth(i).fill(str(count - i))
    page.get_by_role("button", name="Compute").click()
    answer = page.locator("#what-if-answer table tbody tr")
    answer.first.wait_for()
    after = {
        row.locator("td").nth(0).inner_text(): float(row.locator("td").nth(2).inner_text()[:-1])
        for row in answer.all()
    }
    assert set(after) == set(before)
    assert after[last_driver] > before[last_driver]
    assert abs(sum(after.values()) - 100) < 0.5
    page.locator("#what-if-answer figure .chart svg").wait_for()
    _clean(page)
    slots.nth(1).fill(slots.nth(0).input_value())  # two drivers in one slot
    page.get_by_role("button", name="Compute").click()
    page.locator("#what-if-answer .errors").wait_for()
    assert "is given to both" in page.locator("#what-if-answer .errors").inner_text()
    _refused(page, "422 (Unprocessable Entity)")
    _clean(page)


def test_sign_in_edit_a_recipe_and_sign_out(page, site) -> None:  # type: ignore[no-untyped-def]
    base = site["base"]
    _visit(page, f"{base}/recipes/new")  # signed out: the sign-in form, then back here
    assert page.locator("h1").inner_text() == "Sign in"
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert "wrong email or password" in page.locator(".errors").inner_text()
    _refused(page, "401 (Unauthorized)")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/recipes/new")
    assert "editor@example.org" in page.locator(".account").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "f1_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Save").click()  # empty: errors at their fields
    assert page.locator("#title-error").inner_text() == "required"
    assert page.locator("#ingredients-error").inner_text() == "at least one line"
    assert page.locator("#title").get_attribute("aria-invalid") == "true"
    _refused(page, "422 (Unprocessable Entity)")
    page.get_by_label("Title").fill("Browser carbonara")
    page.get_by_label("Pasta").fill("spaghetti")
    page.get_by_label("Difficulty").select_option("easy")
    page.get_by_label("Preparation (minutes)").fill("10")
    page.get_by_label("Cooking (minutes)").fill("12")
    page.get_by_label("Servings").fill("2")
    page.get_by_label("Ingredients, one per line").fill("200 g spaghetti\n2 eggs\nsalt")
    page.get_by_label("Steps, one per line").fill("Boil the pasta.\nStir in the eggs off the heat.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/recipes/browser-carbonara")
    ingredients = page.locator("#ingredients li")
    assert ingredients.all_inner_texts() == ["200 g spaghetti", "2 eggs", "salt (to taste)"]
    page.get_by_label("Servings").fill("4")  # scaled through htmx
    page.get_by_role("button", name="Scale").click()
    page.get_by_text("400 g spaghetti").wait_for()
    assert page.locator("#ingredients li").all_inner_texts()[1] == "4 eggs"

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Browser carbonara, edited")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/recipes/browser-carbonara")
    assert page.locator("h1").inner_text() == "Browser carbonara, edited"
    with site["engine"].connect() as connection:
        stored = connection.execute(
            text("SELECT title FROM recipes WHERE slug = 'browser-carbonara'")
        ).scalar_one()
    assert stored == "Browser carbonara, edited"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(f"{base}/recipes")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "f1_session"]
    _clean(page)


def test_forms_without_the_csrf_token_are_refused(site) -> None:  # type: ignore[no-untyped-def]
    base = site["base"]
    body = {"email": "editor@example.org", "password": PASSWORD}
    refused = httpx.post(f"{base}/signin", data=body)
    assert refused.status_code == 403 and "did not come from this site" in refused.text
    with httpx.Client(base_url=base) as client:
        form = client.get("/signin")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
        assert token is not None
        signed = client.post("/signin", data={**body, "csrf": token.group(1)})
        assert signed.status_code == 303 and "f1_session" in client.cookies
        # another browser's token does not fit this browser's cookie
        other = httpx.get(f"{base}/signin")
        theirs = re.search(r'name="csrf" value="([0-9a-f]+)"', other.text)
        assert theirs is not None and theirs.group(1) != token.group(1)
        assert client.post("/signout", data={"csrf": theirs.group(1)}).status_code == 403
        # the API ignores the cookie: bearer tokens only
        assert client.get("/api/v1/users").status_code == 401
