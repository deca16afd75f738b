"""The pasta recipe app: validation, search and storage of recipes (tables in the warehouse).

Every write is one transaction; a recipe's ingredients, steps and tags are replaced with it."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.text import stripped_text
from warehouse.db import as_utc, session_factory, transaction
from warehouse.schema import Recipe, RecipeIngredient, RecipeStep, RecipeTag
from warehouse.schema.recipes import DietaryTag, Difficulty

SEED = Path(__file__).resolve().parents[2] / "data" / "recipes" / "recipes.json"
Text = Annotated[str, Field(min_length=1, max_length=160)]
SortKey = Literal[
    "title",
    "-title",
    "total_minutes",
    "-total_minutes",
    "difficulty",
    "-difficulty",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
]


class RecipeConflict(ValueError):
    """The slug is taken by another recipe."""


class Ingredient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    quantity: float | None = Field(
        default=None, gt=0, le=1_000_000, allow_inf_nan=False, description="none: to taste"
    )
    unit: str | None = Field(default=None, max_length=32, examples=["g", "ml", "tbsp"])


class RecipeIn(BaseModel):
    """A whole recipe, as created or replaced."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=stripped_text
    )

    title: Text
    slug: str | None = Field(
        default=None,
        max_length=160,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        description="made from the title when not given",
    )
    description: str = Field(default="", max_length=5000)
    pasta_type: Text
    region: str | None = Field(default=None, max_length=64)
    cuisine: str = Field(default="Italian", min_length=1, max_length=64)
    difficulty: Difficulty
    prep_minutes: int = Field(ge=0, le=24 * 60)
    cook_minutes: int = Field(ge=0, le=24 * 60)
    servings: int = Field(ge=1, le=100)
    ingredients: list[Ingredient] = Field(min_length=1, max_length=100)
    steps: list[Annotated[str, Field(min_length=1, max_length=5000)]] = Field(
        min_length=1, max_length=100
    )
    dietary_tags: list[DietaryTag] = Field(default_factory=list)
    image_url: HttpUrl | None = None

    @field_validator("dietary_tags")
    @classmethod
    def _distinct(cls, tags: list[str]) -> list[str]:
        return sorted(set(tags))


class RecipePatch(BaseModel):
    """Any subset of a recipe's fields; the lists given replace the stored ones. Only `region`
    and `image_url` may be null (the schema says so: the others are left out, never null)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=stripped_text
    )

    title: Text | SkipJsonSchema[None] = None
    slug: (
        Annotated[str, Field(max_length=160, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
        | (SkipJsonSchema[None])
    ) = None
    description: Annotated[str, Field(max_length=5000)] | SkipJsonSchema[None] = None
    pasta_type: Text | SkipJsonSchema[None] = None
    region: str | None = Field(default=None, max_length=64)
    cuisine: Annotated[str, Field(min_length=1, max_length=64)] | SkipJsonSchema[None] = None
    difficulty: Difficulty | SkipJsonSchema[None] = None
    prep_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | SkipJsonSchema[None] = None
    cook_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | SkipJsonSchema[None] = None
    servings: Annotated[int, Field(ge=1, le=100)] | SkipJsonSchema[None] = None
    ingredients: (
        Annotated[list[Ingredient], Field(min_length=1, max_length=100)] | (SkipJsonSchema[None])
    ) = None
    steps: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=5000)]],
            Field(min_length=1, max_length=100),
        ]
        | SkipJsonSchema[None]
    ) = None
    dietary_tags: list[DietaryTag] | SkipJsonSchema[None] = None
    image_url: HttpUrl | None = None


class RecipeOut(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    pasta_type: str
    region: str | None
    cuisine: str
    difficulty: str
    prep_minutes: int
    cook_minutes: int
    total_minutes: int
    servings: int
    ingredients: list[Ingredient]
    steps: list[str]
    dietary_tags: list[str]
    image_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RecipePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[RecipeOut]


SLUG_MAX = 160  # the column's length


def slugify(title: str) -> str:
    """`Cacio e Pepe` → `cacio-e-pepe` (accents dropped), at most SLUG_MAX characters (a
    ligature like `ﬃ` becomes three letters: a 160-character title can make a longer slug)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        cut = slug[:SLUG_MAX]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut else cut).strip("-")
    return slug or "recipe"


def to_out(recipe: Recipe, servings: int | None = None) -> RecipeOut:
    """The recipe as answered; `servings` scales every quantity."""
    factor = servings / recipe.servings if servings else 1.0
    return RecipeOut(
        id=recipe.id,
        slug=recipe.slug,
        title=recipe.title,
        description=recipe.description,
        pasta_type=recipe.pasta_type,
        region=recipe.region,
        cuisine=recipe.cuisine,
        difficulty=recipe.difficulty,
        prep_minutes=recipe.prep_minutes,
        cook_minutes=recipe.cook_minutes,
        total_minutes=recipe.prep_minutes + recipe.cook_minutes,
        servings=servings or recipe.servings,
        ingredients=[
            Ingredient(
                name=i.name,
                quantity=None if i.quantity is None else _round(i.quantity * factor),
                unit=i.unit,
            )
            for i in recipe.ingredients
        ],
        steps=[s.text for s in recipe.steps],
        dietary_tags=[t.tag for t in recipe.tags],
        image_url=recipe.image_url,
        created_at=as_utc(recipe.created_at),
        updated_at=as_utc(recipe.updated_at),
    )


def _round(quantity: float) -> float:
    # 3 significant figures: 333.33 g → 333 g, 0.6667 tsp → 0.667 tsp
    return float(f"{quantity:.3g}")


def search(
    engine: Engine,
    *,
    q: str | None = None,
    pasta_type: str | None = None,
    region: str | None = None,
    difficulty: str | None = None,
    tags: list[str] | None = None,
    max_minutes: int | None = None,
    sort: str = "title",
    limit: int = 20,
    offset: int = 0,
) -> RecipePage:
    """One page of the recipes matching every filter given, and how many match in all."""
    total_minutes = Recipe.prep_minutes + Recipe.cook_minutes
    query = select(Recipe.id)
    if q:
        like = f"%{_escape(q.strip().lower())}%"
        in_ingredients = (
            select(RecipeIngredient.id)
            .where(
                RecipeIngredient.recipe_id == Recipe.id,
                func.lower(RecipeIngredient.name).like(like, escape="\\"),
            )
            .exists()
        )
        query = query.where(
            or_(
                func.lower(Recipe.title).like(like, escape="\\"),
                func.lower(Recipe.description).like(like, escape="\\"),
                in_ingredients,
            )
        )
    if pasta_type:
        query = query.where(func.lower(Recipe.pasta_type) == pasta_type.strip().lower())
    if region:
        query = query.where(func.lower(Recipe.region) == region.strip().lower())
    if difficulty:
        query = query.where(Recipe.difficulty == difficulty)
    wanted = sorted(set(tags or []))  # a tag given twice asks nothing more
    if wanted:
        # one subquery however many tags: the recipes holding every one of them
        holding = (
            select(RecipeTag.recipe_id)
            .where(RecipeTag.tag.in_(wanted))
            .group_by(RecipeTag.recipe_id)
            .having(func.count(func.distinct(RecipeTag.tag)) == len(wanted))
        )
        query = query.where(Recipe.id.in_(holding))
    if max_minutes is not None:
        query = query.where(total_minutes <= max_minutes)
    key = sort.lstrip("-")
    column: Any = {
        "title": func.lower(Recipe.title),
        "total_minutes": total_minutes,
        "difficulty": _difficulty_rank(),
        "created_at": Recipe.created_at,
        "updated_at": Recipe.updated_at,
    }[key]
    order = column.desc() if sort.startswith("-") else column.asc()
    with session_factory(engine)() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        ids = session.scalars(query.order_by(order, Recipe.id).limit(limit).offset(offset)).all()
        by_id = {r.id: r for r in session.scalars(select(Recipe).where(Recipe.id.in_(ids)))}
        items = [to_out(by_id[i]) for i in ids]
    return RecipePage(total=total, limit=limit, offset=offset, items=items)


def _difficulty_rank() -> Any:
    return case({"easy": 0, "medium": 1, "hard": 2}, value=Recipe.difficulty)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find(session: Session, ref: str) -> Recipe | None:
    """A recipe by id (ASCII digits: `isdigit` alone takes `²` for one) or slug."""
    if ref.isascii() and ref.isdigit():
        key = int(ref)
        return session.get(Recipe, key) if key < 2**31 else None
    return session.scalar(select(Recipe).where(Recipe.slug == ref))


def get(engine: Engine, ref: str, servings: int | None = None) -> RecipeOut | None:
    with session_factory(engine)() as session:
        recipe = find(session, ref)
        return None if recipe is None else to_out(recipe, servings)


def _fill(recipe: Recipe, data: dict[str, Any]) -> None:
    """Set `data`'s fields on `recipe`, replacing the child rows of the lists given."""
    for field in (
        "title",
        "slug",
        "description",
        "pasta_type",
        "region",
        "cuisine",
        "difficulty",
        "prep_minutes",
        "cook_minutes",
        "servings",
    ):
        if field in data:
            setattr(recipe, field, data[field])
    if "image_url" in data:
        recipe.image_url = None if data["image_url"] is None else str(data["image_url"])
    if "ingredients" in data:
        recipe.ingredients = [
            RecipeIngredient(position=n, name=i["name"], quantity=i["quantity"], unit=i["unit"])
            for n, i in enumerate(data["ingredients"], start=1)
        ]
    if "steps" in data:
        recipe.steps = [RecipeStep(position=n, text=t) for n, t in enumerate(data["steps"], 1)]
    if "dietary_tags" in data:
        recipe.tags = [RecipeTag(tag=t) for t in sorted(set(data["dietary_tags"]))]
    recipe.updated_at = dt.datetime.now(dt.UTC)


def create(engine: Engine, body: RecipeIn) -> RecipeOut:
    """A new recipe; RecipeConflict when its slug is taken."""
    data = body.model_dump()
    data["slug"] = body.slug or slugify(body.title)
    recipe = Recipe(created_at=dt.datetime.now(dt.UTC))
    _fill(recipe, data)
    try:
        with transaction(engine) as session:
            session.add(recipe)
            session.flush()
            out = to_out(recipe)
    except IntegrityError:
        raise RecipeConflict(f"a recipe with the slug {data['slug']!r} exists") from None
    return out


def update(engine: Engine, ref: str, data: dict[str, Any]) -> RecipeOut | None:
    """Replace (all fields) or update (some) a stored recipe; None when there is none."""
    try:
        with transaction(engine) as session:
            recipe = find(session, ref)
            if recipe is None:
                return None
            _fill(recipe, data)
            session.flush()
            out = to_out(recipe)
    except IntegrityError:
        raise RecipeConflict(f"a recipe with the slug {data.get('slug')!r} exists") from None
    return out


def delete(engine: Engine, ref: str) -> bool:
    with transaction(engine) as session:
        recipe = find(session, ref)
        if recipe is None:
            return False
        session.delete(recipe)
    return True


def seed(engine: Engine, path: Path = SEED) -> dict[str, int]:
    """Load the bundled recipes (validated first, all in one transaction); a recipe whose slug
    is stored already is replaced by the bundled text. Returns inserted/updated counts."""
    bodies = [RecipeIn.model_validate(item) for item in json.loads(path.read_text())]
    counts = {"inserted": 0, "updated": 0}
    with transaction(engine) as session:
        for body in bodies:
            data = body.model_dump()
            data["slug"] = body.slug or slugify(body.title)
            recipe = session.scalar(select(Recipe).where(Recipe.slug == data["slug"]))
            if recipe is None:
                recipe = Recipe(created_at=dt.datetime.now(dt.UTC))
                session.add(recipe)
                counts["inserted"] += 1
            elif to_out(recipe).model_dump(include=set(data)) == _comparable(data):
                continue
            else:
                counts["updated"] += 1
            _fill(recipe, data)
    return counts


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["image_url"] = None if data["image_url"] is None else str(data["image_url"])
    return out
