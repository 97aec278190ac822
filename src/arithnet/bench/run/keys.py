"""The key a stored row has now: rows that earlier arithnet stored under keys of version 1 get their runs' keys.

Results stores of schema 1 keyed a run by a hash of its resolved
configuration with exceptions added as the code grew, so that older stores
kept their keys: fields added later were left out while at their defaults
(``_V1_LATER_FIELDS``), a stack given unit options was marked (before, they
reached its second layer only, which made another run), and once a needless
``force`` stopped making a run anew, the run was also looked up under the key
that the needless ``force`` had given it. Stores of schema 2 key a run by
``ResolvedConfig.key`` (key version 2), which has no exceptions.

A row of version 1 gets its run's key of version 2 when its key is one under
which this arithnet found the run before (``v1_keys``, from the configuration
stored with the row). Any other row keeps its key: no run of this arithnet
looked it up before (a stack's row from before the mark), and none does now.
A run stored twice, once forced needlessly and once not, gives its key to the
row without force, the one it was read from before; the other keeps its key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, replace
from enum import IntEnum

from arithnet.bench.protocol import ResolvedConfig, RunRow, needs_force, unit_names

#: Execution choices, which keys of version 1 left out too.
_V1_EXECUTION = ("device", "compile")
#: Fields added while keys of version 1 were made, with their defaults: left out of a key while at the default.
_V1_LATER_FIELDS = {"preset": None, "log_step_zero": False, "threshold_subsets": "task"}


class Claim(IntEnum):
    """How a stored key names its run, strongest first: the row with the strongest claim gets the run's key."""

    OWN = 0  # the run's key, of version 2, or of version 1 as the run was first looked up
    NEEDLESS_FORCE = 1  # the key of version 1 that a needless force gave the run
    NONE = 2  # not a key under which this arithnet finds a run: kept as it is


def v1_keys(config: ResolvedConfig, seed: int) -> tuple[str, ...]:
    """The keys of version 1 under which a run was found: its own, then (unforced) the one a needless force gave."""
    settings = {name: value for name, value in asdict(config).items() if name not in _V1_EXECUTION}
    settings = {k: v for k, v in settings.items() if k not in _V1_LATER_FIELDS or v != _V1_LATER_FIELDS[k]}
    if len(unit_names(config.unit)) == 2 and config.unit_options:
        settings["stack_options"] = "every layer"  # the options reached the second layer only before
    variants = [settings] if settings["force"] else [settings, {**settings, "force": True}]
    texts = [json.dumps({**variant, "seed": seed}, sort_keys=True, default=str) for variant in variants]
    return tuple(hashlib.sha256(text.encode()).hexdigest()[:24] for text in texts)


def claim(key: str, config: str, seed: int) -> tuple[str, Claim]:
    """The key of the run that a row (its key, stored configuration and seed) holds, and how it holds it.

    The stored configuration is resolved again, which drops a needless
    ``force`` (stored as given before key version 2). A configuration this
    arithnet cannot read as a run (damaged, or of a unit it does not know)
    keeps its key.
    """
    try:
        stored = ResolvedConfig.from_json(config)
        record = replace(stored, force=needs_force(stored.unit, stored.operation, stored.force))
        current, old = record.key(seed), v1_keys(record, seed)
    except (ValueError, TypeError, RecursionError):
        return key, Claim.NONE
    if key in (current, old[0]):
        return current, Claim.OWN
    if key in old[1:]:
        return current, Claim.NEEDLESS_FORCE
    return key, Claim.NONE


def current_keys(records: Iterable[tuple[str, str, int]], taken: Collection[str] = ()) -> list[str]:
    """The key each stored (key, configuration, seed) has now (see the module's docstring).

    Rows of one run: the strongest claim gets the run's key (a key that is
    already the run's first), the others keep theirs. ``taken`` holds keys
    stored elsewhere (the store, for the rows of its side file): a needlessly
    forced row does not take a run's key taken there.
    """
    records = list(records)
    claims = [claim(*record) for record in records]
    keys = [key for key, _, _ in records]
    held: set[str] = set()
    for index in sorted(range(len(records)), key=lambda i: (claims[i][1], claims[i][0] != keys[i])):
        key, how = claims[index]
        if how is Claim.NONE or key in held or (how is Claim.NEEDLESS_FORCE and key in taken):
            continue
        keys[index] = key
        held.add(key)
    return keys


def current_rows(rows: Sequence[RunRow], taken: Collection[str] = ()) -> list[RunRow]:
    """``rows`` with the keys they have now (``current_keys``)."""
    keys = current_keys(((row.key, row.config, row.seed) for row in rows), taken)
    return [row if key == row.key else replace(row, key=key) for row, key in zip(rows, keys, strict=True)]
