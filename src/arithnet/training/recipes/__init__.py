"""Training recipes, one registry of instances by name."""

from __future__ import annotations

from arithnet.training.recipes.base import Recipe
from arithnet.training.recipes.default import DefaultRecipe, DefaultSettings
from arithnet.training.recipes.seed_post import SeedPostRecipe, SeedPostSettings

RECIPES: dict[str, Recipe] = {r.name: r for r in (DefaultRecipe(), SeedPostRecipe(1), SeedPostRecipe(2))}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; a ValueError lists the valid names."""
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; valid recipes: {', '.join(RECIPES)}") from None


__all__ = ["RECIPES", "DefaultRecipe", "DefaultSettings", "Recipe", "SeedPostRecipe", "SeedPostSettings", "get_recipe"]
