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
  a constant: None, bool, int,  a typed canonical encoding (``1``, ``1.0``
  float, complex, str, bytes,   and ``True`` differ, as do a tuple and a
  tuple, list, dict, set,       list); containers are hashed by content
  frozenset of constants, enum
  member
  a library module, function,   its qualified name, and for a third-party
  class or named object         package its distribution version
  a bound method                its function and the object it is bound to
  ``functools.partial``         its function, arguments and keywords
  a library wrapper with        what it wraps (a ``Step`` called as a plain
  ``__wrapped__``               function, an ``lru_cache`` helper)
  anything else                 nothing: the step is not cached (below)
  ============================  ============================================

*User code* is code whose file lies outside the standard library, outside every
``site-packages``/``dist-packages`` folder, and outside lineagelog's own engine
(``lineagelog.domain``/``projections``/``adapters``/``api``); code without a file
(a notebook cell, ``exec``) is user code too. Library code is named, never read:
its behaviour changes with its version, not with our hash.

When a value cannot be hashed canonically (a global or closure holding a model
object, a connection, an instance of a user class), the hash still names its type
but :attr:`CodeHash.unhashable` says which name held it, and the runner decides
the step ``DISABLED`` with that reason instead of risking a wrong cache hit.

Values are read when the hash is computed: once per ``Step`` per process. A
global container mutated after that is not seen again in the same process.
"""

from __future__ import annotations

import dis
import enum
import functools
import importlib.metadata
import inspect
import sys
import sysconfig
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineagelog.domain.canonical import canonical_bytes, digest

__all__ = ["CodeHash", "Unhashable", "code_hash_of"]

CODE_HASH_FORMAT = 2
"""Bump when the encoding below changes: every cached step then misses once."""

_ENGINE_PACKAGES = (
    "lineagelog.domain",
    "lineagelog.projections",
    "lineagelog.adapters",
    "lineagelog.api",
)
_ENGINE_FOLDERS = tuple(
    Path(__file__).resolve().parent.parent / name.rpartition(".")[2] for name in _ENGINE_PACKAGES
)
_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_ATTRIBUTE_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
_SCALARS: dict[type, str] = {type(None): "none", bool: "bool", int: "int", str: "str"}


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


# -- where code comes from -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    paths = sysconfig.get_paths(vars=base)
    roots = {paths["stdlib"], paths["platstdlib"]}
    roots |= {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    return tuple(str(Path(root).resolve()) for root in roots)


@functools.lru_cache(maxsize=4096)
def _is_library_file(filename: str) -> bool:
    if not filename or filename.startswith("<"):
        return False  # exec'd or interactive code: the user's
    path = Path(filename).resolve()
    if {"site-packages", "dist-packages"} & set(path.parts):
        return True
    roots: tuple[str | Path, ...] = (*_library_roots(), *_ENGINE_FOLDERS)
    return any(path.is_relative_to(root) for root in roots)


def _is_engine(module_name: str) -> bool:
    return module_name == "lineagelog" or any(
        module_name == package or module_name.startswith(package + ".")
        for package in _ENGINE_PACKAGES
    )


def _is_user_module(module: types.ModuleType) -> bool:
    if _is_engine(module.__name__):
        return False
    filename = getattr(module, "__file__", None)
    if filename is None:
        # A builtin or frozen module (sys, builtins), or a namespace package.
        return module.__name__ == "__main__"
    return not _is_library_file(filename)


def _is_user_named(module_name: str | None, filename: str | None) -> bool:
    # A function's file decides before its module name: code compiled from a
    # string (a doctest, ``exec``) may run with an engine module's globals.
    if filename is not None:
        return not _is_library_file(filename)
    if module_name and _is_engine(module_name):
        return False
    module = sys.modules.get(module_name or "")
    return module is not None and _is_user_module(module)


@functools.lru_cache(maxsize=1024)
def _distribution_version(top_level: str) -> str | None:
    module = sys.modules.get(top_level)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(top_level)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def _library_name(module_name: str, qualname: str) -> list[Any]:
    module = sys.modules.get(module_name)
    filename = getattr(module, "__file__", None)
    top = module_name.partition(".")[0]
    third_party = filename is not None and _is_third_party_file(filename)
    return ["library", module_name, qualname, _distribution_version(top) if third_party else None]


def _is_third_party_file(filename: str) -> bool:
    return bool({"site-packages", "dist-packages"} & set(Path(filename).parts))


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
            if ins.opname == "IMPORT_NAME":
                imported = str(ins.argval)
            elif ins.opname == "IMPORT_FROM" and imported is not None:
                names.add(("import", imported, str(ins.argval)))
        if chain:
            names.add(tuple(chain))
    return sorted(names)


class _Hasher:
    """One hash computation: the memo of objects already encoded, the first failure."""

    def __init__(self) -> None:
        self.unhashable: Unhashable | None = None
        self._done: dict[int, Any] = {}
        self._busy: set[int] = set()

    def value(self, value: Any, path: tuple[str, ...]) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return [_SCALARS[kind], value]
        if kind is float:
            return ["float", repr(value)]  # repr keeps -0.0, nan and inf apart
        if kind is complex:
            return ["complex", repr(value)]
        if kind is bytes:
            return ["bytes", value.hex()]
        if isinstance(value, enum.Enum):
            return ["enum", self.value(kind, path), value.name]
        key = id(value)
        if key in self._done:
            return self._done[key]
        if key in self._busy:
            return ["cycle", _describe(value)]
        self._busy.add(key)
        try:
            encoded = self._compound(value, path)
        finally:
            self._busy.discard(key)
        self._done[key] = encoded
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
        if isinstance(value, types.FunctionType):
            return self._function(value, path)
        if isinstance(value, type):
            return self._class(value, path)
        if isinstance(value, types.ModuleType):
            if _is_user_module(value):
                return ["module", value.__name__]
            return _library_name(value.__name__, "")
        if isinstance(value, types.MethodType):
            return ["method", self.value(value.__func__, path), self.value(value.__self__, path)]
        if isinstance(value, functools.partial):
            parts = [value.func, value.args, value.keywords]
            return ["partial", *(self.value(part, path) for part in parts)]
        if isinstance(value, (types.BuiltinFunctionType, types.MethodWrapperType)):
            owner = getattr(value, "__self__", None)
            module = getattr(value, "__module__", None) or type(owner).__module__
            return _library_name(module, value.__qualname__)
        if not _is_user_named(kind.__module__, None):
            wrapped = getattr(value, "__wrapped__", None)
            if isinstance(wrapped, types.FunctionType):
                return ["wrapped", self.value(wrapped, path)]
            named = _importable_name(value)
            if named is not None:
                return _library_name(*named)
        if self.unhashable is None:
            self.unhashable = Unhashable(path, kind.__qualname__)
        return ["unhashable", kind.__qualname__]

    def _function(self, func: types.FunctionType, path: tuple[str, ...]) -> Any:
        code = func.__code__
        if not _is_user_named(func.__module__, code.co_filename):
            return _library_name(func.__module__ or "", func.__qualname__)
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
        if not _is_user_named(cls.__module__, getattr(module, "__file__", None)):
            return _library_name(cls.__module__, cls.__qualname__)
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
                module = sys.modules.get(chain[1])
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
            and _is_user_module(value)
            and hasattr(value, chain[taken])
        ):
            value = getattr(value, chain[taken])
            taken += 1
        return value, ".".join(chain[:taken])


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


def _importable_name(value: Any) -> tuple[str, str] | None:
    """``(module, qualname)`` when ``value`` is what that name imports (``typing.Any``)."""
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    target: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return (module_name, qualname) if target is value else None


def _describe(value: Any) -> str:
    return getattr(value, "__qualname__", None) or type(value).__qualname__
