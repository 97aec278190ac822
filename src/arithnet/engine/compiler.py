"""torch.compile for the training step, with its cache in the user's cache directory and an eager fallback.

Compiling costs seconds (about 5 s with a warm cache here, 15 s cold) and
then saves most of the per-operation overhead of a step: worth it for the
benchmark's 50,000-step runs, not for ``arithnet train``'s 600 steps
(docs/design.md, "The engine"). ``AUTO_COMPILE_STEPS`` is that boundary.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from arithnet.files import directory_problem

#: With compile=None, runs of at least this many steps are compiled.
AUTO_COMPILE_STEPS = 20_000


def cache_directory() -> Path:
    """Where compiled code is kept: $XDG_CACHE_HOME/arithnet, or ~/.cache/arithnet; never the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "arithnet" / "inductor"


#: Set in the environment when no compile cache can be written: child processes then run eagerly without a word.
NO_CACHE = "ARITHNET_NO_COMPILE_CACHE"
#: Whether this process has a compile cache it can write (None: not looked at yet); see ``prepare_cache``.
_cache_ready: bool | None = None


def prepare_cache(notice: Callable[[str], None] | None = None) -> bool:
    """Point torch's compile cache at a directory this process can write; False if there is none.

    Once per process, before torch's compiler is imported (its import already
    creates the cache directory). The cache is $TORCHINDUCTOR_CACHE_DIR if
    set, else ``cache_directory()``; where that cannot be written (a read-only
    home), it is this user's own directory in the system's temporary
    directory, with one line to ``notice`` saying so; where neither can,
    nothing is compiled and the line says so. Child processes inherit the
    choice through the environment (``NO_CACHE`` for none), so a bench says it once.
    """
    global _cache_ready
    if _cache_ready is None and NO_CACHE in os.environ:  # a parent process found none and said so
        _cache_ready = False
    if _cache_ready is None:
        wanted = Path(os.environ.get("TORCHINDUCTOR_CACHE_DIR") or cache_directory())
        problem = directory_problem(wanted)
        chosen = wanted
        if problem is not None:
            chosen = _fallback_cache()
            fallback = f"using {chosen} instead" if chosen is not None else "running eagerly"
            (notice or _say)(f"the compile cache {wanted} cannot be written ({problem}); {fallback}")
        os.environ.update({"TORCHINDUCTOR_CACHE_DIR": str(chosen)} if chosen is not None else {NO_CACHE: "1"})
        _cache_ready = chosen is not None
    return _cache_ready


def _fallback_cache() -> Path | None:
    """This user's cache in the temporary directory (kept between runs, like torch's own default), or None.

    Refused unless it is a directory of this user's that no one else may write:
    a cache holds compiled code that is loaded and run.
    """
    uid = os.getuid() if hasattr(os, "getuid") else 0
    directory = Path(tempfile.gettempdir()) / f"arithnet-inductor-{uid}"
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
        info = directory.lstat()
    except OSError:
        return None
    owned = not hasattr(os, "getuid") or info.st_uid == uid
    if not stat.S_ISDIR(info.st_mode) or not owned or info.st_mode & 0o022:
        return None
    return directory if directory_problem(directory) is None else None


def should_compile(setting: bool | None, steps: int) -> bool:
    """The compile decision: as set, or (None) for runs of at least AUTO_COMPILE_STEPS steps."""
    return steps >= AUTO_COMPILE_STEPS if setting is None else bool(setting)


def fresh_compiler() -> None:
    """Forget the programs compiled by earlier fits in this process.

    torch.compile keys its programs on the code object, so every fit's step
    adds guarded entries to the same list: a worker that trains many groups
    would pay for checking them all on every step, and from the ninth group on
    hit dynamo's recompile limit. A fit compiles its own programs anyway;
    recompiling hits the on-disk cache. Call it only once ``prepare_cache`` said yes.
    """
    import torch

    torch._dynamo.reset()


def compiled_stance(enabled: bool):
    """Inside a fit: check no guards before calling its compiled programs (a context manager).

    Dynamo checks a program's guards (about 20 attributes and tensors) before
    every call: at S = 1 that was half the time of a compiled step. The engine
    enters this stance only after a segment's first step has compiled its
    program with the guards on, and leaves it before the unit changes
    (multi-start selection): within the segment every call has the very
    shapes, dtypes and mode the program was traced for, so the checks could
    only pass. (Compiling anew under this stance is an error by design.)
    """
    if not enabled:
        return contextlib.nullcontext()
    import torch

    return torch.compiler.set_stance(skip_guard_eval_unsafe=True)


def _say(line: str) -> None:
    print(f"arithnet: {line}", file=sys.stderr)


def compiled(function: Callable, notice: Callable[[str], None] | None = None, what: str = "") -> Callable:
    """``function`` compiled by torch.compile on its first call; that call returns None if compiling fails.

    The caller then goes on eagerly. ``notice`` gets one line saying so
    (default: printed to stderr), naming ``what`` was compiled. Without a
    compile cache (``prepare_cache``, which has said why) every call returns None.
    """
    what = what or function.__name__.strip("_").replace("_", " ")
    ready = prepare_cache(notice)
    state: dict[str, Callable | None] = {"program": None}

    def call(*args):
        if not ready:
            return None
        if state["program"] is None:
            import torch

            try:
                state["program"] = torch.compile(function, fullgraph=True, dynamic=False)
                return state["program"](*args)
            except Exception as error:  # any compiler failure means: go on eagerly
                (notice or _say)(f"compiling the {what} failed ({type(error).__name__}); running it eagerly")
                return None
        try:
            return state["program"](*args)
        except RuntimeError as error:
            # Under compiled_stance a changed guard (a unit whose buffers grow, iNALU's Primer
            # restart rule) must compile anew, which the stance forbids; the check comes before
            # the program runs, so nothing was half-updated and the caller may go on eagerly.
            if "Recompilation triggered" not in str(error):
                raise
            (notice or _say)(f"the compiled {what} would need compiling again; running it eagerly")
            return None

    return call
