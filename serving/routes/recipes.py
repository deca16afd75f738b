"""The pasta recipe app: `/api/v1/recipes`. Reading is public; writing needs the editor or
admin role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError

from apps import recipes
from apps.recipes import RecipeIn, RecipeOut, RecipePage, RecipePatch
from apps.recipes import SortKey as Sort
from serving.auth import require
from serving.deps import EngineDep, SessionRoute
from warehouse.schema.recipes import DietaryTag, Difficulty

router = APIRouter(route_class=SessionRoute, prefix="/recipes", tags=["recipes"])
EDITOR = require("editor", "admin")
Ref = Annotated[str, Path(min_length=1, max_length=160, description="id or slug")]
MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "no such recipe"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "the slug is taken"}}


@router.get("")
def list_recipes(
    engine: EngineDep,
    q: Annotated[
        str | None, Query(max_length=100, description="title, description, ingredients")
    ] = None,
    pasta_type: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    difficulty: Difficulty | None = None,
    tag: Annotated[list[DietaryTag] | None, Query(description="every tag given must apply")] = None,
    # bounded by the database's integer range (a larger value was a 500, not a 422)
    max_minutes: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="prep + cook")] = None,
    sort: Sort = "title",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> RecipePage:
    """Search, filter, sort and page the recipes; `total` counts every match."""
    return recipes.search(
        engine,
        q=q,
        pasta_type=pasta_type,
        region=region,
        difficulty=difficulty,
        tags=list(tag or []),
        max_minutes=max_minutes,
        sort=sort,
        limit=limit,
        offset=offset,
    )


@router.get("/{ref}", responses=MISSING)
def get_recipe(
    engine: EngineDep,
    ref: Ref,
    servings: Annotated[int | None, Query(ge=1, le=100, description="scale to")] = None,
) -> RecipeOut:
    """One recipe by id or slug; `servings` scales every quantity."""
    found = recipes.get(engine, ref, servings)
    if found is None:
        raise HTTPException(404, f"no recipe {ref!r}")
    return found


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT, dependencies=[EDITOR])
def create_recipe(engine: EngineDep, body: RecipeIn) -> RecipeOut:
    try:
        return recipes.create(engine, body)
    except recipes.RecipeConflict as error:
        raise HTTPException(409, str(error)) from None


def _update(engine: EngineDep, ref: str, data: dict[str, Any]) -> RecipeOut:
    try:
        found = recipes.update(engine, ref, data)
    except recipes.RecipeConflict as error:
        raise HTTPException(409, str(error)) from None
    if found is None:
        raise HTTPException(404, f"no recipe {ref!r}")
    return found


@router.put("/{ref}", responses={**MISSING, **CONFLICT}, dependencies=[EDITOR])
def replace_recipe(engine: EngineDep, ref: Ref, body: RecipeIn) -> RecipeOut:
    """Replace every field (the slug stays unless one is given)."""
    data = body.model_dump(exclude={"slug"} if body.slug is None else set())
    return _update(engine, ref, data)


@router.patch("/{ref}", responses={**MISSING, **CONFLICT}, dependencies=[EDITOR])
def update_recipe(engine: EngineDep, ref: Ref, body: RecipePatch) -> RecipeOut:
    """Change the fields given (a list given replaces the stored list)."""
    data = body.model_dump(exclude_unset=True)
    nulls = [k for k, v in data.items() if v is None and k not in ("region", "image_url")]
    if nulls:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", k),
                    "msg": f"{k} cannot be null",
                    "input": None,
                }
                for k in nulls
            ]
        )
    return _update(engine, ref, data)


@router.delete(
    "/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=MISSING, dependencies=[EDITOR]
)
def delete_recipe(engine: EngineDep, ref: Ref) -> Response:
    if not recipes.delete(engine, ref):
        raise HTTPException(404, f"no recipe {ref!r}")
    return Response(status_code=204)
