"""The code hash of a step: everything its function computes with, hashed once.

Two executions may share a cache entry only when they run the same code on the
same inputs, so the hash covers more than the step's own source text:

- the step's source (dedented; its bytecode and constants when there is no source),
  its default argument values and its closure cells;
- every global name its code loads (``LOAD_GLOBAL``/``LOAD_NAME``, in its own code
  object and in nested ones: comprehensions, lambdas, inner functions), and every
  name it imports inside its body (``from m import f``), hashed by what they hold:

  ============================  ============================================
  a global holding              is hashed as
  ============================  ============================================
  a user function               its source, defaults, closure and the
                                globals *it* loads, transitively (a function
                                reached twice is hashed once; cycles stop)
  a user class                  its source, its bases, and the globals its
                                methods load, transitively
  a user module                 its name, plus each attribute the code reads
                                from it (``helpers.scale`` hashes ``scale``)
  a constant: None, bool, int,  a typed canonical encoding
  float, complex, str, bytes,   (``lineagelog.domain.code_values``: ``1``,
  a path, UUID, date/time,      ``1.0`` and ``True`` differ); a path is
  Decimal, compiled regex       hashed as a name, not as the file's content
  a tuple, list, dict, set,     its members, each by these rules (a tuple
  frozenset, named tuple        and a list differ; dict and set order not)
  an enum member                its class (as a class, below) and its name
  a library module, function,   its qualified name, and for a third-party
  class or named object         package its distribution version
  a bound method                its function and the object it is bound to
  ``functools.partial``         its function, arguments and keywords
  a library wrapper with        what it wraps (a ``Step`` called as a plain
  ``__wrapped__``               function, an ``lru_cache`` helper)
  a ``logging.Logger``          its name (it says where messages go)
  anything else                 nothing: the step is not cached (below)
  ============================  ============================================

*User code* is code whose file lies outside the standard library, outside every
``site-packages``/``dist-packages`` folder, and outside lineagelog's own engine
(see ``lineagelog.api.code_origin``); code without a file (a notebook cell,
``exec``) is user code too. Library code is named, never read: its behaviour
changes with its version, not with our hash.

When a value cannot be hashed canonically (a global or closure holding a model
object, a connection, an instance of a user class), the hash still names its type
but :attr:`CodeHash.unhashable` says which name held it, and the runner decides
the step ``DISABLED`` with that reason instead of risking a wrong cache hit.

Values are read when the hash is computed: once per ``Step`` per process, before
the step first runs. A global container mutated after that is not seen again in
the same process. A ``from m import f`` inside the body is followed only when
``m`` is already imported by then, and for a module imported inside the body
(``import m`` then ``m.f()``) only the source text naming it is hashed.
"""

from __future__ import annotations

import dis
import enum
import functools
import importlib.util
import inspect
import logging
import sys
import textwrap
import types
from dataclasses import dataclass
from typing import Any

from lineagelog.api.code_origin import (
    importable_name,
    is_user_code,
    is_user_module,
    library_name,
)
from lineagelog.domain.canonical import canonical_bytes, digest
from lineagelog.domain.code_values import plain_value

__all__ = ["CodeHash", "Unhashable", "code_hash_of"]

CODE_HASH_FORMAT = 2
"""Bump when the encoding below changes: every cached step then misses once."""

_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_ATTRIBUTE_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


@dataclass(frozen=True)
class Unhashable:
    """A value the code uses that has no canonical encoding."""

    path: tuple[str, ...]  # the names leading to it: ("helper", "model")
    type_name: str

    def describe(self, step_name: str) -> str:
        """The reason a step using this value is not cached."""
        through = (
            f" (reached through `{'` -> `'.join(self.path[:-1])}`)" if len(self.path) > 1 else ""
        )
        return (
            f"step `{step_name}` is not cached: its code uses `{self.path[-1]}`{through} "
            f"(a {self.type_name} object) whose value cannot be hashed canonically; "
            "make it a parameter, or set enable_cache=False"
        )


@dataclass(frozen=True)
class CodeHash:
    """A step's code hash, and the first value that kept it from being complete."""

    digest: str
    unhashable: Unhashable | None


def code_hash_of(func: Any) -> CodeHash:
    """Hash ``func``'s source with everything it computes with (see the module docstring).

    Returns:
        The sha256 hex digest, and the first unhashable value met (or None).

    Examples:
        >>> def make(k):
        ...     def f(x):
        ...         return x * k
        ...     return f
        >>> code_hash_of(make(2)).digest == code_hash_of(make(3)).digest
        False
        >>> code_hash_of(make(object())).unhashable.type_name
        'object'
    """
    hasher = _Hasher()
    tree = [CODE_HASH_FORMAT, hasher.value(func, ())]
    return CodeHash(digest(tree), hasher.unhashable)


# -- the walk ---------------------------------------------------------------------------


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found += _code_objects(const)
    return found


def _referenced_names(code: types.CodeType) -> list[tuple[str, ...]]:
    """Dotted global reads (``helpers.scale``), and ``from m import f`` inside the body."""
    names: set[tuple[str, ...]] = set()
    for each in _code_objects(code):
        chain: list[str] | None = None
        imported: str | None = None
        consts: list[Any] = []  # the import level and from-list precede IMPORT_NAME
        for ins in dis.get_instructions(each):
            if ins.opname in _GLOBAL_LOADS:
                if chain:
                    names.add(tuple(chain))
                chain = [str(ins.argval)]
                continue
            if ins.opname in _ATTRIBUTE_LOADS and chain:
                chain.append(str(ins.argval))
                continue
            if chain:
                names.add(tuple(chain))
                chain = None
            if ins.opname == "LOAD_CONST":
                consts = [*consts[-1:], ins.argval]
            elif ins.opname == "IMPORT_NAME":
                level = consts[0] if len(consts) == 2 and isinstance(consts[0], int) else 0
                imported = "." * level + str(ins.argval)
            elif ins.opname == "IMPORT_FROM" and imported is not None:
                names.add(("import", imported, str(ins.argval)))
        if chain:
            names.add(tuple(chain))
    return sorted(names)


class _Hasher:
    """One hash computation: the memo of objects already encoded, the first failure."""

    def __init__(self) -> None:
        self.unhashable: Unhashable | None = None
        self._done: dict[int, tuple[Any, Any]] = {}
        self._busy: set[int] = set()

    def value(self, value: Any, path: tuple[str, ...]) -> Any:
        plain = plain_value(value)
        if plain is not None:
            return plain
        if isinstance(value, enum.Enum):
            return ["enum", self.value(type(value), path), value.name]
        key = id(value)
        if key in self._done:
            return self._done[key][1]
        if key in self._busy:
            return ["cycle", getattr(value, "__qualname__", None) or type(value).__qualname__]
        self._busy.add(key)
        try:
            encoded = self._compound(value, path)
        finally:
            self._busy.discard(key)
        # Keep the value alive with its encoding: a freed object's id can be reused.
        self._done[key] = (value, encoded)
        return encoded

    def _compound(self, value: Any, path: tuple[str, ...]) -> Any:
        kind = type(value)
        if kind in (tuple, list):
            return [kind.__name__, [self.value(item, path) for item in value]]
        if kind is dict:
            items = [[self.value(k, path), self.value(v, path)] for k, v in value.items()]
            return ["dict", sorted(items, key=canonical_bytes)]
        if kind in (set, frozenset):
            members = [self.value(item, path) for item in value]
            return [kind.__name__, sorted(members, key=canonical_bytes)]
        if isinstance(value, tuple) and hasattr(kind, "_fields"):
            return ["namedtuple", self.value(kind, path), [self.value(v, path) for v in value]]
        if isinstance(value, logging.Logger):
            return ["logger", value.name]  # where messages go, not what is computed
        if isinstance(value, types.FunctionType):
            return self._function(value, path)
        if isinstance(value, type):
            return self._class(value, path)
        if isinstance(value, types.ModuleType):
            if is_user_module(value):
                return ["module", value.__name__]
            return library_name(value.__name__, "")
        if isinstance(value, types.MethodType):
            return ["method", self.value(value.__func__, path), self.value(value.__self__, path)]
        if isinstance(value, functools.partial):
            parts = [value.func, value.args, value.keywords]
            return ["partial", *(self.value(part, path) for part in parts)]
        if isinstance(value, (types.BuiltinFunctionType, types.MethodWrapperType)):
            owner = getattr(value, "__self__", None)
            module = getattr(value, "__module__", None) or type(owner).__module__
            return library_name(module, value.__qualname__)
        if not is_user_code(kind.__module__, None):
            wrapped = getattr(value, "__wrapped__", None)
            if isinstance(wrapped, types.FunctionType):
                return ["wrapped", self.value(wrapped, path)]
            named = importable_name(value)
            if named is not None:
                return library_name(*named)
        if self.unhashable is None:
            self.unhashable = Unhashable(path, kind.__qualname__)
        return ["unhashable", kind.__qualname__]

    def _function(self, func: types.FunctionType, path: tuple[str, ...]) -> Any:
        code = func.__code__
        if not is_user_code(func.__module__, code.co_filename):
            return library_name(func.__module__ or "", func.__qualname__)
        cells = zip(code.co_freevars, func.__closure__ or (), strict=True)
        return [
            "function",
            func.__qualname__,
            _source_of(func),
            self.value(func.__defaults__, path),
            self.value(func.__kwdefaults__, path),
            [[name, self._cell(cell, (*path, name))] for name, cell in cells],
            self._globals(code, func.__globals__, path),
        ]

    def _cell(self, cell: types.CellType, path: tuple[str, ...]) -> Any:
        try:
            contents = cell.cell_contents
        except ValueError:  # a cell not yet filled (a name assigned later)
            return ["empty"]
        return self.value(contents, path)

    def _class(self, cls: type, path: tuple[str, ...]) -> Any:
        module = sys.modules.get(cls.__module__)
        if not is_user_code(cls.__module__, getattr(module, "__file__", None)):
            return library_name(cls.__module__, cls.__qualname__)
        members = [_as_function(member) for member in vars(cls).values()]
        functions = [f for f in members if f is not None]
        return [
            "class",
            cls.__qualname__,
            _source_of(cls),
            [self.value(base, path) for base in cls.__bases__ if base is not object],
            [self._globals(f.__code__, f.__globals__, path) for f in functions],
        ]

    def _globals(
        self, code: types.CodeType, namespace: dict[str, Any], path: tuple[str, ...]
    ) -> list[Any]:
        found: dict[str, Any] = {}
        for chain in _referenced_names(code):
            if chain[0] == "import":
                module = _imported_module(chain[1], namespace.get("__package__"))
                if module is None or not hasattr(module, chain[2]):
                    continue  # imported when the step runs; its module name is in the source
                target, shown = getattr(module, chain[2]), chain[2]
            elif chain[0] in namespace:
                target, shown = self._resolve(namespace[chain[0]], chain)
            else:
                continue  # a builtin, or a name defined later: the source says which
            if shown not in found:
                found[shown] = self.value(target, (*path, shown))
        return [[name, found[name]] for name in sorted(found)]

    def _resolve(self, value: Any, chain: tuple[str, ...]) -> tuple[Any, str]:
        """Follow ``helpers.scale`` into user modules; stop at anything else."""
        taken = 1
        while (
            taken < len(chain)
            and isinstance(value, types.ModuleType)
            and is_user_module(value)
            and hasattr(value, chain[taken])
        ):
            value = getattr(value, chain[taken])
            taken += 1
        return value, ".".join(chain[:taken])


def _imported_module(name: str, package: Any) -> types.ModuleType | None:
    """The module ``from <name> import ...`` names, if already imported."""
    if name.startswith("."):
        try:
            name = importlib.util.resolve_name(name, package if isinstance(package, str) else None)
        except (ImportError, ValueError):
            return None
    return sys.modules.get(name)


def _as_function(member: Any) -> types.FunctionType | None:
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    elif isinstance(member, property):
        member = member.fget
    return member if isinstance(member, types.FunctionType) else None


def _source_of(obj: types.FunctionType | type) -> Any:
    try:
        return ["source", textwrap.dedent(inspect.getsource(obj))]
    except (OSError, TypeError):
        if isinstance(obj, types.FunctionType):
            return ["bytecode", _code_tree(obj.__code__)]
        return ["nosource", obj.__qualname__]


def _code_tree(code: types.CodeType) -> Any:
    consts = [
        _code_tree(c) if isinstance(c, types.CodeType) else [type(c).__name__, repr(c)]
        for c in code.co_consts
    ]
    return [code.co_code.hex(), consts, list(code.co_names), list(code.co_varnames)]
