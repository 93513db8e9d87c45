"""Which materializer saves which type.

Materializers register themselves for their ``ASSOCIATED_TYPES`` when their
class is defined. ``materializer_for`` walks the type's MRO, so the most
specific registration wins; registering again for the same type replaces the
earlier materializer, except that lineagelog's own built-ins never replace a
user's materializer.

Built-ins for optional libraries (numpy, pandas, scikit-learn, pydantic, pathlib) are
registered *lazily* by import path: the table below maps a data type's
``module:qualname`` to the materializer that handles it, and the materializer
module is imported only when a value of that type is looked up. So importing
this package imports neither numpy nor pandas.

Every materializer class is also recorded by its ``module:qualname`` when it
is defined, so that a name read back from the log can be matched against the
classes this process defined (see ``trusted``) instead of being imported.
``import_trusted`` imports by name and is only for names our code chooses
(the lazy table), never for names read from events, views or stored files.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from lineagelog.adapters.materializers.base import (
    _PACKAGE,
    _REGISTRY,
    BaseMaterializer,
    defined_materializer,
    record_definition,
    register_materializer,
)
from lineagelog.adapters.materializers.fallback import (
    fallback_materializer,
    no_materializer_message,
)
from lineagelog.adapters.materializers.sources import type_source
from lineagelog.domain.errors import MaterializerError, NoMaterializerError

__all__ = [
    "MaterializerRegistry",
    "defined_materializer",
    "import_trusted",
    "lazy_materializer_sources",
    "materializer_for",
    "materializer_registry",
    "materializer_source",
    "record_definition",
    "register_lazy",
    "register_materializer",
    "registered_types",
    "type_source",
]

_LAZY: dict[str, str] = {
    "numpy:ndarray": f"{_PACKAGE}.numpy:NumpyMaterializer",
    "pandas:DataFrame": f"{_PACKAGE}.pandas:PandasMaterializer",
    "pandas:Series": f"{_PACKAGE}.pandas:PandasMaterializer",
    "pydantic:BaseModel": f"{_PACKAGE}.pydantic:PydanticMaterializer",
    "pathlib:Path": f"{_PACKAGE}.path:PathMaterializer",
    **{
        f"sklearn.base:{name}": f"{_PACKAGE}.sklearn:SklearnMaterializer"
        for name in (
            "BaseEstimator",
            "ClassifierMixin",
            "ClusterMixin",
            "BiclusterMixin",
            "OutlierMixin",
            "RegressorMixin",
            "MetaEstimatorMixin",
            "MultiOutputMixin",
            "DensityMixin",
            "TransformerMixin",
        )
    },
}
# Top-level modules of optional dependencies, and the extra that installs them.
EXTRAS = {
    "numpy": "numpy",
    "pandas": "pandas",
    "pyarrow": "pandas",
    "cloudpickle": "pickle",
    "sklearn": "sklearn",
    "skops": "sklearn",
    "s3fs": "s3",
}


def lazy_materializer_sources() -> frozenset[str]:
    """Import paths of the materializers in the lazy table (chosen by code, not data).

    With them, ``StoredDataMaterializer``: it is chosen for no type (it loads data
    registered where it lies in the store), yet a built-in a record may name.
    """
    return frozenset({*_LAZY.values(), f"{_PACKAGE}.path:StoredDataMaterializer"})


def registered_types() -> tuple[type, ...]:
    """The types some materializer is registered for, eagerly or lazily (if imported)."""
    return (*_REGISTRY, *_loaded_lazy_types())


def register_lazy(data_type_source: str, materializer_source: str) -> None:
    """Register a materializer for a type by import paths, importing nothing now.

    Args:
        data_type_source: ``"module:qualname"`` of the data type as users import
            it (``"numpy:ndarray"``).
        materializer_source: ``"module:qualname"`` of the materializer class; its
            module is imported the first time a value of that type is looked up.

    """
    _LAZY[data_type_source] = materializer_source


def materializer_for(
    data_type: Any, *, context: str | None = None, pickle_fallback: bool = False
) -> type[BaseMaterializer]:
    """Return the materializer class for ``data_type``, the most specific in its MRO.

    Args:
        data_type: a class, or a generic alias such as ``list[int]`` (its origin is used).
        context: where the type comes from (``"output 'model' of step 'train'"``),
            added to the error message.
        pickle_fallback: for a class nothing else saves, return the pickle
            fallback's materializer (warning once per type) instead of raising.

    Raises:
        NoMaterializerError: naming the type and the two ways out (write a
            materializer, or turn the pickle fallback on).

    """
    klass = _as_class(data_type, context)
    lazy = _loaded_lazy_types()
    for base in klass.__mro__:
        found = _REGISTRY.get(base)
        if found is not None:
            return found
        if base in lazy:
            materializer: type[BaseMaterializer] = import_trusted(lazy[base])
            # Importing the module registered it, unless a user materializer already was.
            return _REGISTRY.get(base, materializer)
    if dataclasses.is_dataclass(klass):
        from lineagelog.adapters.materializers.dataclass import DataclassMaterializer

        return DataclassMaterializer
    if pickle_fallback:
        return fallback_materializer(klass)
    raise NoMaterializerError(no_materializer_message(klass, f" ({context})" if context else ""))


def materializer_source(cls: type) -> str:
    """Return the import path ``"module:qualname"`` of a materializer class."""
    return type_source(cls)


def import_trusted(source: str) -> Any:
    """Import the object named by ``"module:qualname"`` (or a dotted ``"module.name"``).

    Importing runs the module's code, so ``source`` must be chosen by code
    (the lazy table, a constant), never read from an event, a view row or a
    stored file: for those use ``trusted.resolve_materializer`` and
    ``trusted.resolve_data_type``.

    Raises:
        MaterializerError: saying what could not be imported and how to fix it.

    """
    if source == "builtins:NoneType":
        return type(None)
    if not isinstance(source, str) or not source:
        raise MaterializerError(f"import path {source!r} is not a 'module:qualname' string")
    if ":" in source:
        module_name, qualname = source.split(":", 1)
        candidates = [(module_name, qualname)]
    else:
        parts = source.split(".")
        candidates = [
            (".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)
        ]
    if "<locals>" in source:
        raise MaterializerError(
            f"cannot import {source!r}: it was defined inside a function; "
            "define it at module level so it can be imported again when loading"
        )
    error: Exception | None = None
    for module_name, qualname in candidates:
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as e:
            error = e
            continue
        try:
            for attribute in qualname.split("."):
                obj = getattr(obj, attribute)
        except AttributeError as e:
            error = e
            continue
        return obj
    top = source.split(":", 1)[0].split(".", 1)[0]
    hint = (
        f"install it: pip install lineagelog[{EXTRAS[top]}]"
        if top in EXTRAS and isinstance(error, ModuleNotFoundError)
        else "make sure the module is importable (installed, or on PYTHONPATH) where "
        "the artifact is loaded and that the name still exists"
    )
    raise MaterializerError(f"cannot import {source!r} ({error}); {hint}") from error


class MaterializerRegistry:
    """ZenML's ``materializer_registry``: which materializer saves which type.

    A view over the registrations of this process (``BaseMaterializer``
    subclasses register themselves when defined). Where ZenML falls back to
    cloudpickle for an unknown type, ``registry[unknown]`` does so only while
    ``pickle_fallback()`` says the fallback is on, and otherwise raises
    ``NoMaterializerError`` saying how to register one or turn it on.

    Args:
        pickle_fallback: asked on each lookup whether the project-wide pickle
            fallback is on (the api passes its setting); off when None.

    """

    def __init__(self, pickle_fallback: Callable[[], bool] | None = None) -> None:
        self._pickle_fallback = pickle_fallback or (lambda: False)

    def register_materializer_type(self, key: type, type_: type[BaseMaterializer]) -> None:
        """Make ``type_`` the materializer of ``key`` unless ``key`` has one already."""
        if key not in _REGISTRY:
            _REGISTRY[_checked_key(key)] = type_

    def register_and_overwrite_type(self, key: type, type_: type[BaseMaterializer]) -> None:
        """Make ``type_`` the materializer of ``key``, replacing any earlier one."""
        _REGISTRY[_checked_key(key)] = type_

    def __getitem__(self, key: type) -> type[BaseMaterializer]:
        """The materializer for ``key``, the most specific registration in its MRO."""
        if isinstance(key, str):
            raise NoMaterializerError(
                f"materializers are looked up by class, got the string {key!r}; pass the "
                "class itself (a string annotation cannot be resolved here)"
            )
        return materializer_for(key, pickle_fallback=self._pickle_fallback())

    def is_registered(self, key: type) -> bool:
        """Whether some materializer saves ``key`` (a registered type, subclass or dataclass)."""
        if not isinstance(key, type):
            return False
        return dataclasses.is_dataclass(key) or any(
            issubclass(key, registered) for registered in registered_types()
        )

    @property
    def materializer_types(self) -> dict[type, type[BaseMaterializer]]:
        """A copy of the eager registrations: data type -> materializer class."""
        return dict(_REGISTRY)

    def get_materializer_types(self) -> dict[type, type[BaseMaterializer]]:
        """A copy of the eager registrations: data type -> materializer class."""
        return self.materializer_types

    def get_default_materializer(self) -> type[BaseMaterializer]:
        """``PickleFallbackMaterializer``, used only while the pickle fallback is on."""
        from lineagelog.adapters.materializers.pickle import PickleFallbackMaterializer

        return PickleFallbackMaterializer


def _checked_key(key: Any) -> type:
    if not isinstance(key, type):
        raise MaterializerError(f"materializers are registered for classes, got {key!r}")
    return key


materializer_registry = MaterializerRegistry()


def _as_class(data_type: Any, context: str | None) -> type:
    if isinstance(data_type, type) and not isinstance(data_type, types.GenericAlias):
        return data_type
    origin = typing.get_origin(data_type)
    if origin is typing.Annotated:
        return _as_class(typing.get_args(data_type)[0], context)
    if isinstance(origin, type) and origin is not types.UnionType:
        return origin
    if data_type is None:
        return type(None)
    where = f" ({context})" if context else ""
    raise NoMaterializerError(
        f"{data_type!r}{where} is not a class; materializers are chosen by class. "
        "Annotate the output with a concrete class (not a Union or Any), "
        "or pass output_materializers=... to @step"
    )


def _loaded_lazy_types() -> dict[type, str]:
    found: dict[type, str] = {}
    for data_type_source, materializer in _LAZY.items():
        module_name, _, qualname = data_type_source.partition(":")
        # A value of the type can only exist if its module was imported already.
        obj: Any = sys.modules.get(module_name)
        for attribute in qualname.split("."):
            obj = getattr(obj, attribute, None)
        if isinstance(obj, type):
            found[obj] = materializer
    return found
