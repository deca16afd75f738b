"""Issue 20: the web app in a real browser (Debian's Chromium, driven by Playwright) against a
running service on the bundled history with a trained champion. Every page renders with no
console error and no request leaving 127.0.0.1; charts draw marks; sign-in, sign-out, a
recipe's life as an editor and a what-if work end to end. A failing test leaves a screenshot
in test-artifacts/."""

from __future__ import annotations

import math
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
expect = playwright.expect
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


def _clean(page: Any, ours: bool = True) -> None:
    """The page as it stands is accessible (ours: Swagger UI and ReDoc are not checked), and
    nothing went wrong in the browser."""
    if ours:
        _accessible(page)
    assert (page.errors, page.outside, page.failed) == ([], [], [])


AXE = Path(__file__).resolve().parents[1] / "fixtures" / "axe" / "axe.min.js"


def _accessible(page: Any) -> None:
    """No WCAG 2 A/AA violation that axe-core finds on the page as it stands (labels,
    contrast, names, landmarks, table headers…)."""
    page.evaluate(AXE.read_text())  # not a <script>: the page's CSP refuses inline ones
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations"
        ".map(v => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target}`)"
    )
    assert found == []


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
    # the bundled history ends in 2024: no next race (and how to load one), the latest race
    # against its result
    assert page.locator("h1").inner_text() == "Latest race"
    notice = page.locator(".notice").inner_text()
    assert "no upcoming race is known" in notice and "f1 ingest season" in notice
    assert "pasta recipes and PTA voting" in page.locator(".lead").inner_text()
    last = page.locator("#last-race").inner_text()
    assert "2024 Abu Dhabi Grand Prix" in last
    assert page.locator("table.numbers tbody tr").count() == 20
    teams = page.locator("table.numbers tbody td:nth-child(2)").all_inner_texts()
    assert "McLaren" in teams and "Red Bull" in teams and not [t for t in teams if "_" in t]
    nav = page.get_by_role("navigation", name="Main")
    sections = [s.text_content() for s in nav.locator(".section").all()]
    assert sections == ["Predictions", "Models", "Community", "Trading"]
    nav.get_by_role("link", name="Championship").click()
    page.wait_for_url(re.compile(r".*/championship/2024$"))
    page.go_back()
    assert page.get_by_role("link", name="MLflow").get_attribute("href") == "http://127.0.0.1:5000"
    _clean(page)

    _visit(page, f"{base}/season/2024")
    rows = page.locator("table.numbers tbody tr")
    assert rows.count() == 24 and page.locator(".status-result-in").count() == 24
    page.get_by_label("Season").select_option("2023")  # the picker: a plain GET form
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"{base}/season/2023")
    assert page.locator("h1").inner_text() == "2023 season"
    _clean(page)

    _visit(page, f"{base}/races/2024/24")
    # the latest stage, the what-if and the result first; the rest one click away
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:3] == ["After qualifying", "What if they started in another order?", "Result"]
    _marks(page, figures=1)
    first = page.locator("section[aria-labelledby=stage-post_quali] table tbody tr").first
    assert "%" in first.inner_text()
    assert (
        page.locator("section[aria-labelledby=result] tbody tr").first.inner_text().startswith("1")
    )
    assert page.locator("#stage-pre_quali").is_hidden()  # behind its summary
    for summary in ("Finishing places", "Earlier: before qualifying", "Why (after qualifying)"):
        page.locator("summary", has_text=summary).click()
    assert page.locator("#stage-pre_quali").inner_text() == "Before qualifying"
    page.wait_for_function(
        "document.querySelectorAll('figure.chart-box .chart svg .role-mark').length >= 3"
    )
    _marks(page, figures=3)  # after and before qualifying bars, and the heat map
    why = page.locator("section[aria-labelledby=why]")
    assert why.locator("tbody tr").count() == 20 and "grid position" in why.inner_text()
    _clean(page)

    _visit(page, f"{base}/teams/red_bull")  # the season's points count the sprints
    row = page.locator("table.numbers tbody tr", has_text="2024").first
    assert row.locator("td").nth(4).inner_text() == "589"
    _clean(page)

    _visit(page, f"{base}/drivers/hamilton")
    assert page.locator("h1").inner_text() == "Lewis Hamilton"
    _marks(page)
    years = page.locator(
        "figure.chart-box .chart svg g[aria-label^='X-axis'] .role-axis-label text"
    ).evaluate_all("labels => labels.map(label => label.textContent)")
    assert years and all(re.fullmatch(r"(19|20)\d\d", y) for y in years), years
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
    _clean(page, ours=False)
    _visit(page, f"{base}/redoc")
    page.get_by_text("Win probabilities for every Formula 1 race").first.wait_for(timeout=20_000)
    _clean(page, ours=False)

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
    assert "is given twice" in page.locator("#what-if-answer .errors").inner_text()
    _refused(page, "422 (Unprocessable Entity)")
    _clean(page)


def test_forms_as_a_person_fills_them(page, site) -> None:  # type: ignore[no-untyped-def]
    """Issue 35: typing, Enter and optional fields left empty; an empty optional field is no
    filter, a bad value is a message at its field, never a raw JSON error in the page."""
    base = site["base"]
    _visit(page, f"{base}/recipes")
    count = page.locator("#results > p").first
    assert count.inner_text() == "24 recipes"
    page.get_by_label("Search").press_sequentially("pesto", delay=30)  # htmx, as typed
    page.wait_for_function("document.querySelector('#results > p').innerText === '2 recipes'")
    titles = page.locator("#results h2").all_inner_texts()
    assert titles == ["Linguine al Pesto alla Trapanese", "Trofie al Pesto Genovese"]
    assert page.locator("#max_minutes").input_value() == ""  # sent empty with every keystroke
    page.get_by_label("Search").press("Enter")  # the whole form, "At most" left empty
    page.wait_for_url(re.compile(r".*/recipes\?q=pesto&difficulty=&max_minutes=$"))
    expect(count).to_have_text("2 recipes")
    # typing in a field fires htmx (which pushes its own URL) before the form's own submit
    # navigates: the assertions retry until the page the submit loads has settled
    page.get_by_label("At most (minutes)").fill("30")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*max_minutes=30$"))
    expect(page.locator("#results h2")).to_have_text(["Linguine al Pesto alla Trapanese"])
    page.get_by_label("Search").fill("")
    page.get_by_label("At most (minutes)").fill("")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*max_minutes=$"))
    expect(count).to_have_text("24 recipes")
    page.wait_for_load_state()
    assert "detail" not in page.locator("main").inner_text()
    _clean(page)

    answer = page.goto(f"{base}/recipes?q=&max_minutes=soon")  # by hand: the message at its field
    assert answer is not None and answer.status == 422
    assert page.locator("#max_minutes-error").inner_text() == (
        "minutes: write a whole number from 0 to 10,000, or leave it empty"
    )
    assert page.locator("#max_minutes").get_attribute("aria-invalid") == "true"
    assert page.locator("#results").inner_text() == "Fix the highlighted field to search."
    _refused(page, "422 (Unprocessable Entity)")

    _visit(page, f"{base}/recipes/cacio-e-pepe")  # scaling with the servings field emptied
    page.get_by_label("Servings").fill("")
    page.get_by_role("button", name="Scale").click()
    page.get_by_role("heading", name="Ingredients for 4").wait_for()
    assert page.locator("#servings-error").count() == 0
    page.get_by_label("Servings").fill("8")
    page.get_by_label("Servings").press("Enter")
    page.get_by_role("heading", name="Ingredients for 8").wait_for()
    _clean(page)

    _visit(page, f"{base}/races/2024/24")  # a what-if with one slot left empty
    page.locator("ol.slots input").last.fill("")
    page.get_by_role("button", name="Compute").click()
    rows = page.locator("#what-if-answer table tbody tr")
    rows.first.wait_for()
    assert rows.count() == page.locator("ol.slots input").count() - 1
    _clean(page)

    _visit(page, f"{base}/season/2024")  # the season picker, by keyboard
    page.get_by_label("Season").select_option("2009")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"{base}/season/2009")
    assert page.locator("h1").inner_text() == "2009 season"
    _clean(page)

    for path in ("/races/2024/99", "/races/2024/30"):  # one rule for a race no season has
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == 404
        assert page.locator("h1").inner_text() == "Not found"
        _refused(page, "404 (Not Found)")
        api = httpx.get(f"{base}/api/v1{path}")
        assert api.status_code == 404 and "2024" in api.json()["detail"]


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
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete").click()  # asked, and not sent when declined
    assert asked == ["Delete this recipe?"] and page.url == f"{base}/recipes/browser-carbonara"
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


def _scored_history(engine: Any) -> None:
    """Predictions of 2024's last five races stored and scored as f1_score does (the model
    page's track record and calibration), and the title odds after rounds 20 and 21."""
    from feature_store.online import RaceRef
    from pipelines.championship import FIRST, championship_odds
    from pipelines.markets import store_odds
    from pipelines.predict import registered
    from pipelines.score import score_baselines, score_predictions, store_predictions

    with engine.connect() as connection:
        races = connection.execute(
            text("SELECT id, season, round, name FROM races WHERE season = 2024 AND round >= 20")
        ).all()
    for race in races:
        store_predictions(engine, RaceRef(*race))
    assert score_predictions(engine) > 0 and score_baselines(engine) > 0
    winner, order = registered(FIRST), registered(FIRST, target="order")
    for after in (20, 21):
        store_odds(engine, championship_odds(engine, 2024, after, winner, order))


def test_model_team_rankings_and_championship_pages(page, site) -> None:  # type: ignore[no-untyped-def]
    base, engine = site["base"], site["engine"]
    # issue 35: before any live race is scored, the champion's walk-forward backtest is the
    # track record, labelled as such, per season against the stage's baseline
    _visit(page, f"{base}/model")
    for stage, title, baseline in (("pre_quali", "Before qualifying", "the last race's winner"),
                                   ("post_quali", "After qualifying", "the grid")):  # fmt: skip
        section = page.locator(f"section[aria-labelledby=record-{stage}]")
        assert section.locator("h2").inner_text() == f"{title}: track record (backtest)"
        assert "Backtest, not live races" in section.locator(".notice").inner_text()
        seasons = section.locator("table").first.locator("tbody tr")
        assert [r.locator("td").first.inner_text() for r in seasons.all()] == ["2023", "2024"]
        races = [int(r.locator("td").nth(1).inner_text()) for r in seasons.all()]
        assert races == [22, 24]
        rows = section.locator("details table tbody tr")
        assert rows.count() == 2 * sum(races)  # each race: the champion and the baseline
        assert f"baseline ({baseline})" in (section.locator("details").text_content() or "")
    assert "No scored predictions yet" not in page.locator("main").inner_text()
    _marks(page, figures=4)
    _clean(page)
    _scored_history(engine)
    with engine.begin() as connection:  # one bot cycle read two winner markets of 2024 R24
        connection.execute(
            text(
                "INSERT INTO bot_cycles (id, started_at, finished_at, status, markets, mapped,"
                " orders, settled, cash, equity, exposure, realised_pnl, unrealised_pnl, fees)"
                " VALUES (1, '2024-12-07', '2024-12-07', 'running', 2, 2, 0, 0, 1000, 1000, 0,"
                " 0, 0, 0)"
            )
        )
        for market, driver, mid, probability in (("m1", "norris", 0.5, 0.4),
                                                 ("m2", "max_verstappen", 0.25, 0.3)):  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO bot_quotes (cycle_id, market_id, market_type, race_id,"
                    " driver_ref, price, best_bid, best_ask, mid, source, probability, model,"
                    " seen_at) SELECT 1, :market, 'winner', id, :driver, :mid, :mid - 0.01,"
                    " :mid + 0.01, :mid, 'book', :p, 'f1_winner_post_quali v2', '2024-12-07'"
                    " FROM races WHERE season = 2024 AND round = 24"
                ),
                {"market": market, "driver": driver, "mid": mid, "p": probability},
            )
    _visit(page, f"{base}/model")
    benchmark = page.locator("section[aria-labelledby=market-benchmark] tbody tr").first
    cells = benchmark.locator("td").all_inner_texts()
    # Norris won: the market gave him 0.5 / 0.75, the model 0.4 / 0.7
    assert cells[0] == "2024 R24 Abu Dhabi Grand Prix" and cells[1] == "1"
    assert cells[2:4] == [f"{-math.log(0.5 / 0.75):.3f}", f"{-math.log(0.4 / 0.7):.3f}"]
    _marks(page, figures=2)  # post_quali: track record and calibration at least
    record = page.locator("section[aria-labelledby=record-post_quali]")
    rows = record.locator("details table tbody tr")
    assert rows.count() == 10  # 5 races × (v2, the grid baseline)
    assert "baseline (the grid)" in (record.locator("details").text_content() or "")
    with engine.connect() as connection:
        entries = connection.execute(
            text("SELECT count(*) FROM predictions WHERE model_name = 'f1_winner_post_quali'")
        ).scalar_one()
    shown = record.locator("table").last.locator("tbody td:nth-child(4)").all_inner_texts()
    assert sum(int(n) for n in shown) == entries  # every stored entry in one calibration bin
    _clean(page)

    _visit(page, f"{base}/teams/red_bull")
    assert page.locator("h1").inner_text() == "Red Bull"
    _marks(page)
    assert "Max Verstappen" in page.locator("table.numbers tbody tr").first.inner_text()
    _clean(page)

    _visit(page, f"{base}/rankings?season=2024")
    first = page.locator("table.numbers").first.locator("tbody tr").first
    assert first.locator("td").first.inner_text() == "1"
    _clean(page)

    _visit(page, f"{base}/championship/2024")
    _marks(page)
    drivers = page.locator("table.numbers").first.locator("tbody tr")
    assert "Max Verstappen" in drivers.first.inner_text()
    _clean(page)
    _visit(page, f"{base}/championship/2023")
    assert "no championship odds are stored for 2023" in page.locator(".notice").inner_text()


def test_the_bot_page_for_signed_in_users_and_admin_controls(page, site) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    base, engine = site["base"], site["engine"]
    create_user(engine, "admin@example.org", PASSWORD, "admin")
    start = dt.datetime(2024, 12, 6, 12, tzinfo=dt.UTC)
    equity = [1000.0, 1004.5, 998.25, 1012.0]
    with engine.begin() as connection:  # four recorded cycles
        for i, value in enumerate(equity):
            at = start + dt.timedelta(minutes=15 * i)
            connection.execute(
                text(
                    "INSERT INTO bot_cycles (started_at, finished_at, status, markets, mapped,"
                    " orders, settled, cash, equity, exposure, realised_pnl, unrealised_pnl, fees)"
                    " VALUES (:at, :at, 'ok', 0, 0, 0, 0, :e, :e, 0, 0, 0, 0)"
                ),
                {"at": at, "e": value},
            )
    answer = page.goto(f"{base}/bot")  # signed out: the sign-in form
    assert answer is not None and page.locator("h1").inner_text() == "Sign in"
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/bot")
    assert page.locator("#bot-status").inner_text() == "stopped"
    _marks(page)
    curve = page.locator("details table tbody tr td:nth-child(3)").all_text_contents()
    assert curve == [f"{v:.2f}" for v in equity]
    page.get_by_role("button", name="Start placing orders").click()
    page.wait_for_url(f"{base}/bot")
    assert page.locator("#bot-status").inner_text() == "running"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM bot_state")).scalar_one() == "running"
    page.get_by_role("button", name="Stop placing orders").click()
    page.wait_for_url(f"{base}/bot")
    assert page.locator("#bot-status").inner_text() == "stopped"
    _clean(page)


def test_an_election_from_creation_to_results(page, site) -> None:  # type: ignore[no-untyped-def]
    """The admin creates an election, uploads the electorate and opens it; a parent signs in
    with the emailed code, votes and checks the receipt; turnout moves; the admin closes it
    and reads the results and the audit log."""
    base, engine = site["base"], site["engine"]
    create_user(engine, "admin@example.org", PASSWORD, "admin")
    _visit(page, f"{base}/signin?next=/voting")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/voting")
    page.get_by_label("Title").fill("Spring board")
    page.get_by_label("Positions, one per line").fill(
        "President: Ann Lee, Bob Ray\nTreasurer: Cy Ode"
    )
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/voting/\d+$"))
    election = page.url.rsplit("/", 1)[1]
    csv = ARTIFACTS.parent / f".electorate-{election}.csv"
    csv.write_text("email,name\nparent@example.org,A Parent\nother@example.org,Another\n")
    try:
        page.get_by_label("Electorate CSV (columns email, name)").set_input_files(str(csv))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("Electorate uploaded").wait_for()
    finally:
        csv.unlink()
    page.get_by_role("button", name="Open voting").click()
    page.wait_for_url(f"{base}/voting/{election}")
    assert page.locator("#election-status").inner_text() == "open"
    assert page.locator("#turnout-count").inner_text() == "0 of 2"

    parent = page.context.browser.new_context()  # another browser: the parent's
    voter = parent.new_page()
    voter.goto(f"{base}/voting/{election}")
    voter.get_by_label("Your email (as the PTA has it)").fill("parent@example.org")
    voter.get_by_role("button", name="Email me a code").click()
    voter.get_by_text("a 6-digit code is on its way").wait_for()
    with engine.connect() as connection:
        mail = connection.execute(
            text("SELECT body FROM outbox WHERE recipient = 'parent@example.org' ORDER BY id DESC")
        ).first()
    assert mail is not None
    code = re.search(r"\b(\d{6})\b", mail[0])
    assert code is not None
    voter.get_by_label("The 6-digit code from the email").fill(code.group(1))
    voter.get_by_role("button", name="Open my ballot").click()
    voter.wait_for_url(f"{base}/voting/{election}/ballot")
    voter.get_by_label("Bob Ray").check()
    voter.get_by_label("Cy Ode").check()
    voter.get_by_role("button", name="Cast my vote").click()
    receipt = voter.locator("#receipt-code").inner_text()
    voter.goto(f"{base}/voting/{election}")
    voter.get_by_label("Receipt", exact=True).fill(receipt)
    voter.get_by_role("button", name="Check").click()
    # one ballot of two voters: sealed until nine more arrive, or the close
    assert "was received: the ballot is sealed" in voter.locator("#receipt-answer").inner_text()

    page.locator("#turnout-count", has_text="1 of 2").wait_for(timeout=15_000)  # htmx polling
    page.get_by_role("button", name="Close voting").click()
    page.wait_for_url(f"{base}/voting/{election}")
    voter.goto(f"{base}/voting/{election}")  # the close released it: now counted
    voter.get_by_label("Receipt", exact=True).fill(receipt)
    voter.get_by_role("button", name="Check").click()
    assert "was counted, for President, Treasurer" in voter.locator("#receipt-answer").inner_text()
    parent.close()
    president = page.locator("table.numbers caption", has_text="President")
    assert president.inner_text() == "President: Bob Ray elected"
    page.locator("summary", has_text="Audit log").click()
    actions = page.locator("details table tbody td:nth-child(3)").all_text_contents()
    assert {"create", "import_members", "open", "closed", "results"} <= set(actions)
    _clean(page)


def test_home_counts_down_to_the_next_race_with_its_probabilities(page, site) -> None:  # type: ignore[no-untyped-def]
    """A calendar that goes on: the next race (a year ahead, before its qualifying) with its
    countdown and the pre-qualifying probabilities (entrants: the current line-ups)."""
    import datetime as dt

    base, engine = site["base"], site["engine"]
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=365)
    with engine.begin() as connection:
        circuit = connection.execute(text("SELECT id FROM circuits WHERE ref = 'bahrain'"))
        connection.execute(
            text(
                "INSERT INTO races (season, round, circuit_id, name, date, time) "
                "VALUES (:s, 1, :c, 'Test Grand Prix', :d, '15:00:00')"
            ),
            {"s": day.year, "c": circuit.scalar_one(), "d": day},
        )
    _visit(page, f"{base}/")
    assert page.locator("#next-race").inner_text() == f"{day.year} Test Grand Prix"
    page.locator(".countdown", has_text="starts in").wait_for()
    assert re.match(r"starts in (36[45]) d ", page.locator(".countdown").inner_text())
    _marks(page)  # the pre_quali bars
    section = page.locator("section[aria-labelledby=next-race]")
    assert "f1_winner_pre_quali v1 (champion)" in section.inner_text()
    assert section.locator("table tbody tr").count() == 20  # the 2024 finale's line-up
    assert "No post_quali prediction" not in section.inner_text()  # no stage before its time
    _clean(page)
