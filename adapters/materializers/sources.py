"""Naming classes as ``"module:qualname"``, the script being run included.

A class defined in the script being run (``python my_script.py``) has the
module name ``__main__``, which names a different module in every process, so
a record saying ``__main__:Point`` could never be read anywhere else. As
ZenML's ``source_utils.resolve`` does, such a class is named by the module
path of the script relative to the source root, the script's own folder:
``my_script:Point``; another process loads it after ``import my_script``. A
script run as ``python -m pkg.tool`` is named by its module, ``pkg.tool``. Only
a main module without a file (the REPL, a notebook) keeps ``__main__``.

Inside the script's own process the name leads back to the ``__main__``
module (``loaded_module``), so the script loads what it saved, as it does
without any import.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

__all__ = ["MAIN", "loaded_module", "main_module_name", "module_source", "type_source"]

MAIN = "__main__"


def main_module_name() -> str | None:
    """The importable name of the script being run, or None when it has no file.

    ``python my_script.py`` gives ``"my_script"`` (its path relative to its own
    folder, the source root); ``python -m pkg.tool`` gives ``"pkg.tool"``.
    """
    main = sys.modules.get(MAIN)
    if main is None:
        return None
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if isinstance(name, str) and name and name != MAIN:
        return name
    filename = getattr(main, "__file__", None)
    if not isinstance(filename, str) or not filename:
        return None
    path = Path(filename)
    if path.suffix != ".py" or not path.stem.isidentifier():
        return None  # a launcher without .py (a console script) defines no user classes
    return path.stem


def module_source(module_name: str) -> str:
    """The name to record for a module: the script's importable name for ``__main__``."""
    if module_name == MAIN:
        return main_module_name() or MAIN
    return module_name


def type_source(data_type: type) -> str:
    """Return the import path ``"module:qualname"`` of a class (``"builtins:int"``).

    Examples:
        >>> type_source(int)
        'builtins:int'

    """
    return f"{module_source(data_type.__module__)}:{data_type.__qualname__}"


def loaded_module(module_name: str) -> types.ModuleType | None:
    """The module recorded as ``module_name`` if this process imported it, never importing.

    The script being run answers to its recorded name (``my_script``) as well.
    """
    module = sys.modules.get(module_name)
    if module is None and module_name != MAIN and module_name == main_module_name():
        module = sys.modules.get(MAIN)
    return module
