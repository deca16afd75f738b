"""The recipes in the browser: search and filters, a recipe scaled to N servings, and the
create, edit and delete forms for editors (errors shown at their fields)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from apps import recipes
from apps.recipes import RecipeConflict, RecipeIn, RecipeOut
from serving.deps import platform_of
from serving.web.session import PostedForm, need_role, render, web_claims
from warehouse.schema.recipes import DIETARY_TAGS, DIFFICULTIES

router = APIRouter(include_in_schema=False, prefix="/recipes")
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]
EDITORS = ("editor", "admin")
PAGE = 12
MAX_MINUTES = 10_000
# "200 g spaghetti", "2 eggs", "salt" (to taste): quantity, then a unit when three words
LINE = re.compile(
    r"^\s*(?:(?P<quantity>\d+(?:[.,]\d+)?)\s+(?:(?P<unit>[^\s\d]{1,32})\s+)?)?(?P<name>.+?)\s*$"
)
UNITS = {"g", "kg", "ml", "l", "tbsp", "tsp", "cup", "cups", "clove", "cloves", "pinch", "bunch"}


@router.get("", response_class=HTMLResponse)
def recipe_list(
    request: Request,
    claims: Claims,
    q: Annotated[str | None, Query(max_length=100)] = None,
    difficulty: Annotated[str | None, Query(max_length=16)] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    max_minutes: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The search. An empty field is no filter (the browser sends every field of the form); a
    bad number is a message at its field, and nothing is searched until it is fixed."""
    engine = platform_of(request).engine
    difficulty = difficulty if difficulty in DIFFICULTIES else None
    tags = [t for t in (tag or []) if t in DIETARY_TAGS]
    limit, error = _count(max_minutes, "minutes", 0, MAX_MINUTES)
    errors = {"max_minutes": error} if error else {}
    filters = {
        "q": q or "", "difficulty": difficulty or "", "tag": tags, "max_minutes": max_minutes or ""
    }  # fmt: skip
    found = (
        recipes.search(
            engine,
            q=q or None,
            difficulty=difficulty,
            tags=tags or None,
            max_minutes=limit,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        )  # fmt: skip
        if not errors
        else None
    )
    total = found.total if found is not None else 0
    context = {
        "page": found,
        "number": page,
        "pages": max(1, -(-total // PAGE)),
        "q": q or "",
        "difficulty": difficulty,
        "tags": tags,
        "max_minutes": (max_minutes or "").strip(),
        "errors": errors,
        "query": lambda n: urlencode({**filters, "page": n}, doseq=True),
        "all_tags": DIETARY_TAGS,
        "difficulties": DIFFICULTIES,
        "can_edit": claims is not None and claims.get("role") in EDITORS,
    }
    fragment = bool(request.headers.get("hx-request"))
    template = "_recipe_results.html" if fragment else "recipes.html"
    return render(request, template, {**context, "oob": fragment}, claims, 422 if errors else 200)


def _count(raw: str | None, what: str, low: int, high: int) -> tuple[int | None, str | None]:
    """An optional whole-number field as typed: empty is None (no filter, the default); else
    a number from `low` to `high`, or the message that says what to write."""
    text = (raw or "").strip()
    if not text:
        return None, None
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        return None, f"{what}: write a whole number from {low:,} to {high:,}, or leave it empty"
    return int(text), None


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, claims: Claims) -> HTMLResponse:
    claims = need_role(claims, *EDITORS)
    return render(request, "recipe_form.html", _form_context(None, {}, {}), claims)


@router.post("/new", response_class=HTMLResponse)
def create(request: Request, claims: Claims, form: PostedForm) -> Response:
    claims = need_role(claims, *EDITORS)
    values, errors, body = _parse(form)
    if body is not None:
        try:
            made = recipes.create(platform_of(request).engine, body)
        except RecipeConflict as error:
            errors["slug"] = str(error)
        else:
            return RedirectResponse(f"/recipes/{made.slug}", status_code=303)
    return render(request, "recipe_form.html", _form_context(None, values, errors), claims, 422)


@router.get("/{slug}", response_class=HTMLResponse)
def recipe_page(
    request: Request,
    claims: Claims,
    slug: str,
    servings: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    """A recipe scaled to `servings` (empty: as written; not 1–100: the message at the field)."""
    wanted, error = _count(servings, "servings", 1, 100)
    found = recipes.get(platform_of(request).engine, slug, wanted)
    if found is None:
        raise HTTPException(404, f"no recipe {slug!r}")
    context = {
        "recipe": found,
        "error": error,
        "can_edit": claims is not None and claims.get("role") in EDITORS,
    }
    template = "_ingredients.html" if request.headers.get("hx-request") else "recipe.html"
    return render(request, template, context, claims, 422 if error else 200)


@router.get("/{slug}/edit", response_class=HTMLResponse)
def edit_form(request: Request, claims: Claims, slug: str) -> HTMLResponse:
    claims = need_role(claims, *EDITORS)
    found = recipes.get(platform_of(request).engine, slug)
    if found is None:
        raise HTTPException(404, f"no recipe {slug!r}")
    return render(request, "recipe_form.html", _form_context(found, _values(found), {}), claims)


@router.post("/{slug}/edit", response_class=HTMLResponse)
def edit(request: Request, claims: Claims, form: PostedForm, slug: str) -> Response:
    claims = need_role(claims, *EDITORS)
    found = recipes.get(platform_of(request).engine, slug)
    if found is None:
        raise HTTPException(404, f"no recipe {slug!r}")
    values, errors, body = _parse(form)
    if body is not None:
        data = body.model_dump()
        data["slug"] = body.slug or found.slug
        try:
            saved = recipes.update(platform_of(request).engine, slug, data)
        except RecipeConflict as error:
            errors["slug"] = str(error)
        else:
            if saved is not None:
                return RedirectResponse(f"/recipes/{saved.slug}", status_code=303)
            raise HTTPException(404, f"no recipe {slug!r}")
    return render(request, "recipe_form.html", _form_context(found, values, errors), claims, 422)


@router.post("/{slug}/delete")
def remove(request: Request, claims: Claims, form: PostedForm, slug: str) -> Response:
    need_role(claims, *EDITORS)
    if not recipes.delete(platform_of(request).engine, slug):
        raise HTTPException(404, f"no recipe {slug!r}")
    return RedirectResponse("/recipes", status_code=303)


def _form_context(
    recipe: RecipeOut | None, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "recipe": recipe,
        "values": values,
        "errors": errors,
        "all_tags": DIETARY_TAGS,
        "difficulties": DIFFICULTIES,
    }


def _values(recipe: RecipeOut) -> dict[str, Any]:
    """A stored recipe as the form shows it."""

    def line(i: Any) -> str:
        quantity = "" if i.quantity is None else f"{i.quantity:g} "
        unit = f"{i.unit} " if i.unit else ""
        return f"{quantity}{unit}{i.name}"

    return {
        **recipe.model_dump(include={"title", "slug", "description", "pasta_type", "region",
                                     "difficulty", "prep_minutes", "cook_minutes", "servings"}),
        "ingredients": "\n".join(line(i) for i in recipe.ingredients),
        "steps": "\n".join(recipe.steps),
        "dietary_tags": list(recipe.dietary_tags),
    }  # fmt: skip


def _parse(form: Any) -> tuple[dict[str, Any], dict[str, str], RecipeIn | None]:
    """The form's values as typed, the errors by field, and the recipe when it is valid."""
    text = {
        k: str(form.get(k) or "").strip()
        for k in ("title", "slug", "description", "pasta_type", "region", "difficulty",
                  "prep_minutes", "cook_minutes", "servings", "ingredients", "steps")
    }  # fmt: skip
    values: dict[str, Any] = {
        **text,
        "dietary_tags": [str(t) for t in form.getlist("dietary_tags")],
    }
    errors: dict[str, str] = {}
    ingredients = []
    for n, raw in enumerate(text["ingredients"].splitlines(), start=1):
        if not raw.strip():
            continue
        match = LINE.match(raw)
        if match is None:  # pragma: no cover (the pattern takes any non-blank line)
            errors["ingredients"] = f"line {n}: write it as '200 g spaghetti' or 'salt'"
            continue
        quantity, unit, name = match.group("quantity"), match.group("unit"), match.group("name")
        if unit and unit.lower() not in UNITS:  # "2 eggs": a count, not a unit
            name, unit = f"{unit} {name}", None
        ingredients.append(
            {"name": name, "quantity": float(quantity.replace(",", ".")) if quantity else None,
             "unit": unit}
        )  # fmt: skip
    numbers: dict[str, int] = {}
    for field in ("prep_minutes", "cook_minutes", "servings"):
        try:
            numbers[field] = int(text[field])
        except ValueError:
            errors[field] = "a whole number"
    data = {
        "title": text["title"],
        "slug": text["slug"] or None,
        "description": text["description"],
        "pasta_type": text["pasta_type"],
        "region": text["region"] or None,
        "difficulty": text["difficulty"],
        **numbers,
        "ingredients": ingredients,
        "steps": [s.strip() for s in text["steps"].splitlines() if s.strip()],
        "dietary_tags": values["dietary_tags"],
    }
    try:
        body = RecipeIn.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "form"
            errors.setdefault(field, _words(field, problem))
        body = None
    return values, errors, None if errors else body


def _words(field: str, problem: Any) -> str:
    if problem["type"] in ("missing", "string_too_short", "too_short"):
        return "required" if field not in ("ingredients", "steps") else "at least one line"
    return str(problem["msg"])
