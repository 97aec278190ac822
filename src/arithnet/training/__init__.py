"""``train``: the recipes of ``arithnet train`` (compositions of the engine), their configuration and results."""

from arithnet.engine import History
from arithnet.training.config import TrainConfig
from arithnet.training.recipes import RECIPES, Recipe, get_recipe
from arithnet.training.trainer import TrainResult, train

__all__ = ["RECIPES", "History", "Recipe", "TrainConfig", "TrainResult", "get_recipe", "train"]
