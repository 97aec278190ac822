"""Multi-seed training: configuration, recipes, history and the ``train`` entry point."""

from arithnet.training.config import TrainConfig
from arithnet.training.history import History
from arithnet.training.recipes import RECIPES, Recipe, get_recipe
from arithnet.training.trainer import TrainResult, train

__all__ = ["RECIPES", "History", "Recipe", "TrainConfig", "TrainResult", "get_recipe", "train"]
