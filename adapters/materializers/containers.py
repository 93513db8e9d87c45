"""Containers element by element: each element through its own materializer.

Used by ``BuiltInContainerMaterializer`` when a list, tuple, set or dict holds
values JSON cannot (as ZenML's container materializer does). Layout under the
artifact folder: element ``i`` in the subfolder ``<i>/``, and ``elements.json``::

    {"kind": "list" | "tuple" | "set" | "frozenset" | "dict",
     "elements": [{"folder": "0", "materializer": "module:qualname",
                   "data_type": "module:qualname", "key": <dict key, JSON>}, ...]}

``elements.json`` is data: each materializer and type it names is resolved by
``trusted`` (never imported), folder names must be the element's index, and
materializers that write local files when loading (``VERIFY_BEFORE_LOAD``) are
refused inside containers, since only the whole artifact's hash is checked.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.materializers import jsonvalues
from lineagelog.adapters.materializers.base import make_materializer
from lineagelog.adapters.materializers.registry import (
    materializer_for,
    materializer_source,
    type_source,
)
from lineagelog.adapters.materializers.trusted import resolve_data_type, resolve_materializer
from lineagelog.domain.errors import MaterializerError, NoMaterializerError

if TYPE_CHECKING:
    from lineagelog.adapters.materializers.base import BaseMaterializer

__all__ = ["ELEMENTS_JSON", "check_savable", "load_elements", "save_elements"]

ELEMENTS_JSON = "elements.json"
_KINDS: dict[str, type] = {
    "list": list,
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "dict": dict,
}


def check_savable(data: Any, where: str = "value") -> None:
    """Raise ``NoMaterializerError`` naming the first value inside ``data`` nothing can save.

    A value is savable when it is JSON, a container of savable values, or a
    type with a materializer.
    """
    pairs: list[tuple[str, Any]] = (
        [(f"{where}[{key!r}]", item) for key, item in data.items()]
        if isinstance(data, dict)
        else [(f"{where}[{index}]", item) for index, item in enumerate(data)]
    )
    for place, item in pairs:
        try:
            jsonvalues.encode(item, place)
            continue
        except NoMaterializerError:
            pass
        if isinstance(item, tuple(_KINDS.values())):
            check_savable(item, place)
            continue
        try:
            materializer_for(type(item))
        except NoMaterializerError as e:
            name = type(item).__qualname__
            raise NoMaterializerError(
                f"{place} is of type {type_source(type(item))!r}, which neither JSON nor a "
                "registered materializer can store. Write a materializer for it (subclass "
                f"BaseMaterializer with ASSOCIATED_TYPES = ({name},)), pass "
                "output_materializers=... to @step, or opt in to pickle"
            ) from e


def save_elements(container: BaseMaterializer, data: Any) -> None:
    """Save each element of ``data`` (a built-in container) with its own materializer."""
    kind = type(data).__name__
    if kind not in _KINDS:
        raise MaterializerError(f"{type(data).__qualname__} is not a list, tuple, set or dict")
    pairs: list[tuple[Any, Any]] = (
        list(data.items()) if isinstance(data, dict) else [(None, item) for item in data]
    )
    listed: list[dict[str, Any]] = []
    store = container.artifact_store
    for index, (key, value) in enumerate(pairs):
        where = f"element {index}" if key is None else f"the value of key {key!r}"
        materializer_cls = materializer_for(
            type(value), context=f"{where} of a {kind} saved element by element"
        )
        if materializer_cls.VERIFY_BEFORE_LOAD:
            raise MaterializerError(
                f"{where} of the {kind} is a {type(value).__qualname__}, whose materializer "
                f"({materializer_cls.__qualname__}) writes local files when loading and so "
                "cannot sit inside a container; return it as an output of its own"
            )
        folder = str(index)
        uri = container.path(folder)
        store.makedirs(uri)
        make_materializer(materializer_cls, uri, store).save(value)
        entry: dict[str, Any] = {
            "folder": folder,
            "materializer": materializer_source(materializer_cls),
            "data_type": type_source(type(value)),
        }
        if key is not None:
            entry["key"] = jsonvalues.encode(key, f"a key of the {kind}")
        listed.append(entry)
    document = {"kind": kind, "elements": listed}
    store.write_text(container.path(ELEMENTS_JSON), json.dumps(document))


def load_elements(container: BaseMaterializer) -> Any:
    """Load the container ``save_elements`` wrote, each element with its recorded materializer."""
    store = container.artifact_store
    try:
        document = json.loads(store.read_text(container.path(ELEMENTS_JSON)))
        kind = document["kind"]
        entries = document["elements"]
        if kind not in _KINDS or not isinstance(entries, list):
            raise ValueError(f"kind {kind!r}")
    except (ValueError, KeyError, TypeError) as e:
        raise _damaged(container, f"is not a list of elements ({e})") from e
    values: list[tuple[Any, Any]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("folder") != str(index):
            raise _damaged(container, f"lists element {index} in another folder ({entry!r})")
        recorded_materializer: Any = entry.get("materializer")
        recorded_type: Any = entry.get("data_type")
        materializer_cls = resolve_materializer(recorded_materializer)
        if materializer_cls.VERIFY_BEFORE_LOAD:
            raise _damaged(container, f"names {materializer_cls.__qualname__} for element {index}")
        data_type = resolve_data_type(recorded_type, materializer_cls)
        materializer = make_materializer(materializer_cls, container.path(str(index)), store)
        if kind == "dict" and "key" not in entry:
            raise _damaged(container, f"gives no key for element {index} of a dict")
        key = jsonvalues.decode(entry["key"]) if kind == "dict" else None
        values.append((key, materializer.load(data_type)))
    if kind == "dict":
        return dict(values)
    return _KINDS[kind](value for _, value in values)


def _damaged(container: BaseMaterializer, problem: str) -> MaterializerError:
    return MaterializerError(
        f"{container.path(ELEMENTS_JSON)} {problem}; refusing to load the container at "
        f"{container.uri!r}. Its files were edited after they were written: check them with "
        "`lineagelog audit`"
    )
