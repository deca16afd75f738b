"""The pasta recipe app: recipes, their ingredients, steps and dietary tags."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, DateTime, Float, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warehouse.schema.base import Base, one_of

Difficulty = Literal["easy", "medium", "hard"]
DietaryTag = Literal[
    "vegetarian",
    "vegan",
    "gluten-free",
    "dairy-free",
    "nut-free",
    "egg-free",
    "pescatarian",
    "low-lactose",
]
DIFFICULTIES: tuple[str, ...] = get_args(Difficulty)
DIETARY_TAGS: tuple[str, ...] = get_args(DietaryTag)


class Recipe(Base):
    """One recipe; its slug is its stable public name."""

    __tablename__ = "recipes"
    __table_args__ = (
        CheckConstraint(one_of("difficulty", DIFFICULTIES), name="difficulty_known"),
        CheckConstraint("prep_minutes >= 0 AND cook_minutes >= 0", name="minutes_not_negative"),
        CheckConstraint("servings >= 1", name="servings_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    pasta_type: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    cuisine: Mapped[str] = mapped_column(String(64), default="Italian")
    difficulty: Mapped[str] = mapped_column(String(8))
    prep_minutes: Mapped[int]
    cook_minutes: Mapped[int]
    servings: Mapped[int]
    image_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    ingredients: Mapped[list[RecipeIngredient]] = relationship(
        order_by="RecipeIngredient.position", cascade="all, delete-orphan", lazy="selectin"
    )
    steps: Mapped[list[RecipeStep]] = relationship(
        order_by="RecipeStep.position", cascade="all, delete-orphan", lazy="selectin"
    )
    tags: Mapped[list[RecipeTag]] = relationship(
        order_by="RecipeTag.tag", cascade="all, delete-orphan", lazy="selectin"
    )


class RecipeIngredient(Base):
    """An ingredient line; no quantity means 'to taste'."""

    __tablename__ = "recipe_ingredients"
    __table_args__ = (
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(120), index=True)
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))


class RecipeStep(Base):
    __tablename__ = "recipe_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)


class RecipeTag(Base):
    __tablename__ = "recipe_tags"
    __table_args__ = (CheckConstraint(one_of("tag", DIETARY_TAGS), name="tag_known"),)

    recipe_id: Mapped[int] = mapped_column(
        ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
