"""What ``RunStarted`` records about the environment, without spawning processes.

ZenML runs ``pip freeze`` twice per run (~0.6 s). Here: interpreter, platform,
host, process id, and the versions of the packages the steps' modules import,
read from installed metadata once per process.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import sys
import types
from collections.abc import Iterable
from email.parser import HeaderParser
from importlib import metadata
from typing import Any

__all__ = ["capture_environment", "installed_version", "this_process"]


def installed_version(distribution: str) -> str:
    """The version of an installed distribution, as ``importlib.metadata.version`` gives it.

    That parses the whole metadata file with the email parser, the long
    description included (lineagelog's is its 44 KB README): over 10 ms a
    package on a run's first step. The version is a header, and the headers
    end at the first blank line, so only they are parsed.

    Raises:
        importlib.metadata.PackageNotFoundError: no such distribution is installed.
        ValueError: ``distribution`` is not a distribution name.

    """
    found = metadata.distribution(distribution)
    text = found.read_text("METADATA") or found.read_text("PKG-INFO")
    if text is not None:
        version = HeaderParser().parsestr(text.split("\n\n", 1)[0])["Version"]
        if isinstance(version, str):
            return version
    return found.version


@functools.lru_cache(maxsize=1)
def _static() -> dict[str, Any]:
    try:
        own = installed_version("lineagelog")
    except metadata.PackageNotFoundError:
        own = "unknown"
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "lineagelog": own,
    }


@functools.lru_cache(maxsize=512)
def _version_of(top_level: str) -> tuple[str, str] | None:
    """The distribution and version providing import name ``top_level``.

    Looks the import name up as a distribution name first (numpy, pandas, torch),
    then falls back to the module's ``__version__`` (sklearn, PIL, yaml).
    ``metadata.packages_distributions()`` would be exact but reads every installed
    package's file list: about half a second per process.
    """
    try:
        return top_level, installed_version(top_level)
    except (metadata.PackageNotFoundError, ValueError):
        pass
    version = getattr(sys.modules.get(top_level), "__version__", None)
    return (top_level, version) if isinstance(version, str) else None


def _top_levels(step_modules: Iterable[str]) -> set[str]:
    tops: set[str] = set()
    for module_name in step_modules:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        tops.add(module_name.split(".")[0])
        for value in vars(module).values():
            if isinstance(value, types.ModuleType):
                tops.add(value.__name__.split(".")[0])
            else:
                owner = getattr(value, "__module__", None)
                if isinstance(owner, str):
                    tops.add(owner.split(".")[0])
    return tops


def capture_environment(step_modules: Iterable[str]) -> dict[str, Any]:
    """The environment of this process, and package versions the steps import."""
    packages: dict[str, str] = {}
    for top in sorted(_top_levels(step_modules)):
        if top in sys.stdlib_module_names or top == "builtins":
            continue
        found = _version_of(top)
        if found is not None:
            packages[found[0]] = found[1]
    return {**_static(), "pid": os.getpid(), "packages": packages}


def this_process() -> str:
    """This process as a step's worker: ``host (pid 4242)``, where a local step runs."""
    return f"{_static()['host']} (pid {os.getpid()})"
