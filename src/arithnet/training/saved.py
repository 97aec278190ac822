"""Reading a saved training configuration back: ``arithnet train --config FILE``.

FILE is the ``result.json`` that ``arithnet train`` writes (its ``"config"``
holds ``TrainConfig.to_dict()`` of the resolved configuration) or a bare
configuration object such as ``{"operation": "div", "n_seeds": 10}``.
Training the configuration read back from a result.json gives that result
again bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

from arithnet.training.config import TrainConfig

__all__ = ["load_config"]


def load_config(path: str | Path) -> TrainConfig:
    """The ``TrainConfig`` saved in ``path``; a one-line ValueError naming the file otherwise.

    Refused: a missing or unreadable file, text that is not JSON, and JSON
    that is not an arithnet training configuration (not an object, no
    ``"operation"``, unknown keys, or values ``TrainConfig`` rejects).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"config file {path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise ValueError(f"config file {path} is not a text file") from None
    except OSError as error:
        raise ValueError(f"config file {path} cannot be read: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"config file {path} is not JSON: {error.msg} at line {error.lineno}") from None
    except RecursionError:
        raise ValueError(f"config file {path} is not JSON arithnet can read: nested too deeply") from None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data = data["config"]  # a result.json: the summary with the configuration inside
    if not isinstance(data, dict) or "operation" not in data:
        raise ValueError(
            f"config file {path} is not an arithnet training configuration "
            '(want the result.json of arithnet train, or an object with an "operation")'
        )
    try:
        return TrainConfig.from_dict(data)
    except (ValueError, TypeError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise ValueError(f"config file {path}: {message}") from None
