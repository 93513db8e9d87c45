"""Turning class names read from data into classes, without running code.

An ``ArtifactWritten`` event, a catalog view row and an import file name the
materializer and the data type of an artifact as ``"module:qualname"``
strings. Whoever can write the log, the views or the store chooses those
strings, so importing them would let data pick code to run (``os:system`` as a
data type becomes ``os.system(value)`` in a materializer that rebuilds values
with ``data_type(value)``). Names read back are therefore matched only against
what this process already has:

- a materializer: a ``BaseMaterializer`` subclass defined in this process
  (registered or not), or one of lineagelog's lazily imported built-ins, whose
  import paths our code chose;
- a data type: a type the materializer declares in ``ASSOCIATED_TYPES``, or a
  class that is already imported (found in ``sys.modules`` by dictionary
  lookups, never by import) and is a subclass of one of those types, or that
  the materializer's ``can_load_type`` accepts (the dataclass materializer:
  any imported dataclass). A materializer that declares no types accepts
  subclasses of any registered type.

Anything else raises ``UntrustedTypeError``, which says which module to import
before loading.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.materializers.registry import (
    defined_materializer,
    import_trusted,
    lazy_materializer_sources,
    registered_types,
)
from lineagelog.adapters.materializers.sources import MAIN, loaded_module, type_source
from lineagelog.domain.errors import UntrustedTypeError

if TYPE_CHECKING:
    from lineagelog.adapters.materializers.base import BaseMaterializer

__all__ = ["loaded_class", "resolve_data_type", "resolve_materializer"]

_NEVER_IMPORTED = "(lineagelog never imports a module named by the log, a view or the store.)"
_CLASS_DICT: Any = vars(type)["__dict__"]
_MODULE_DICT: Any = vars(types.ModuleType)["__dict__"]


def resolve_materializer(source: str) -> type[BaseMaterializer]:
    """Return the materializer class named ``source`` (read from data), never importing it.

    Args:
        source: ``"module:qualname"`` as recorded by ``materializer_source``.

    Raises:
        UntrustedTypeError: when no materializer of that name is defined in
            this process nor is one of lineagelog's lazy built-ins.

    """
    from lineagelog.adapters.materializers.base import BaseMaterializer

    _check_shape(source, "materializer")
    found: Any = defined_materializer(source)
    if found is None and source in lazy_materializer_sources():
        found = import_trusted(source)
    if isinstance(found, type) and issubclass(found, BaseMaterializer):
        return found
    raise UntrustedTypeError(
        f"the materializer class {source!r} is not imported in this process: "
        f"{_import_first(source)}; otherwise the record naming it was edited: check it with "
        f"`lineagelog audit`. {_NEVER_IMPORTED}{_locals_hint(source)}"
    )


def resolve_data_type(source: str, materializer: type[BaseMaterializer]) -> type:
    """Return the data type named ``source`` (read from data) for loading with ``materializer``.

    Args:
        source: ``"module:qualname"`` as recorded by ``type_source``.
        materializer: the already resolved materializer that will load the value.

    Raises:
        UntrustedTypeError: when the class is not imported in this process, or
            is not one of (a subclass of) the types ``materializer`` handles.

    """
    _check_shape(source, "data type")
    for declared in materializer.ASSOCIATED_TYPES:
        if type_source(declared) == source:
            return declared
    bases = tuple(t for t in materializer.ASSOCIATED_TYPES or registered_types() if t is not object)
    found = loaded_class(source)
    if found is None:
        raise UntrustedTypeError(
            f"the class {source!r} is not imported in this process: "
            f"{_import_first(source, ' or register a materializer for it')}; otherwise the "
            "record naming it was edited: check it with `lineagelog audit`. "
            f"{_NEVER_IMPORTED}{_locals_hint(source)}"
        )
    if not issubclass(found, bases) and not materializer.can_load_type(found):
        handled = sorted(type_source(t) for t in bases)
        raise UntrustedTypeError(
            f"data type {source!r} is not a subclass of a type {materializer.__qualname__} "
            f"handles ({', '.join(handled) or 'none'}), so the recorded type cannot be "
            "trusted; register a materializer for it, or check the artifact with "
            "`lineagelog audit`"
        )
    return found


def loaded_class(source: str) -> type | None:
    """Return the class ``"module:qualname"`` if its module is already imported, else None.

    Only dictionary lookups in ``sys.modules`` and in module and class
    namespaces: no import, no ``__getattr__`` hook, no descriptor runs. The
    class found must carry exactly that name (no aliases).
    """
    module_name, separator, qualname = source.partition(":")
    if not separator or not module_name or not qualname:
        return None
    obj: Any = loaded_module(module_name)
    for part in qualname.split("."):
        # The base classes' own descriptors, so a metaclass or module cannot intercept.
        if isinstance(obj, type):
            namespace = _CLASS_DICT.__get__(obj)
        elif isinstance(obj, types.ModuleType):
            namespace = _MODULE_DICT.__get__(obj)
        else:
            return None
        if not isinstance(namespace, Mapping):
            return None
        obj = namespace.get(part)
    if isinstance(obj, type) and type_source(obj) == source:
        return obj
    return None


def _check_shape(source: Any, what: str) -> None:
    if not isinstance(source, str) or source.count(":") != 1 or source.startswith(":"):
        raise UntrustedTypeError(
            f"the recorded {what} {source!r} is not a 'module:qualname' name; the log or the "
            "view holding it was damaged or edited: check it with `lineagelog audit`"
        )


def _import_first(source: str, alternative: str = "") -> str:
    module = source.split(":", 1)[0]
    if module == MAIN:
        return (
            "it was defined in a main module that no other process has (the REPL, a notebook, "
            "or a script run by an earlier lineagelog, which recorded such classes as "
            "`__main__`); define it in a module and save it again"
        )
    return (
        f"if it is yours, import the module that defines it first (`import {module}`)"
        f"{alternative}, then load again"
    )


def _locals_hint(source: str) -> str:
    if "<locals>" not in source:
        return ""
    return " It was defined inside a function: define it at module level instead."
