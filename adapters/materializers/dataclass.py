"""``DataclassMaterializer``: a dataclass instance as the JSON of its fields.

Any dataclass without a materializer of its own is saved this way (the
registry chooses it after the type's MRO finds nothing). ``data.json`` holds
the fields in lineagelog's lossless JSON (``jsonvalues``); a field holding
another dataclass is nested as the JSON of its fields and rebuilt from the
field's annotation. A field of any other type (a numpy array, an object)
is refused when saving, naming the field.

Loading rebuilds the class recorded for the artifact, which ``trusted``
resolves only among classes this process has imported (never importing one),
and calls its ``__init__`` with the stored fields, as a user would.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, ClassVar

from lineagelog.adapters.materializers import jsonvalues
from lineagelog.adapters.materializers.base import ArtifactType, BaseMaterializer
from lineagelog.domain.errors import MaterializerError, NoMaterializerError

__all__ = ["DataclassMaterializer"]

DATA_JSON = "data.json"
_NESTED = "__dataclass_fields__"


class DataclassMaterializer(BaseMaterializer):
    """Dataclass instances as ``data.json`` (the fields); loads only imported dataclasses."""

    # No declared types: dataclasses share no base class; can_handle_type decides.
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SKIP_REGISTRATION: ClassVar[bool] = True

    @classmethod
    def can_handle_type(cls, data_type: type) -> bool:
        """Whether ``data_type`` is a dataclass."""
        return isinstance(data_type, type) and dataclasses.is_dataclass(data_type)

    def save(self, data: Any) -> None:
        """Write the fields as ``data.json``."""
        if not (dataclasses.is_dataclass(data) and not isinstance(data, type)):
            raise MaterializerError(
                f"DataclassMaterializer saves dataclass instances, not a {type(data).__qualname__}"
            )
        name = type(data).__qualname__
        try:
            encoded = _encode(data, name)
        except NoMaterializerError as e:
            where = str(e).split(", which", 1)[0]  # "P.x is of type 'module:Class'"
            raise NoMaterializerError(
                f"{where}, which JSON cannot hold, and a dataclass without a materializer of "
                f"its own is saved as the JSON of its fields. Write a materializer for {name} "
                f"(subclass BaseMaterializer with ASSOCIATED_TYPES = ({name},)), or pass "
                "output_materializers=PickleMaterializer to @step"
            ) from e
        self.artifact_store.write_bytes(self.path(DATA_JSON), jsonvalues.serialize(encoded))

    def load(self, data_type: type) -> Any:
        """Rebuild ``data_type`` (a dataclass this process has) from ``data.json``."""
        if not self.can_handle_type(data_type):
            raise MaterializerError(
                f"the artifact at {self.uri!r} holds a dataclass; load it as a dataclass, "
                f"not as {data_type!r}"
            )
        stored = json.loads(self.artifact_store.read_bytes(self.path(DATA_JSON)))
        return _decode(stored, data_type, self.uri)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """The names of the fields."""
        return {"fields": [field.name for field in dataclasses.fields(data)]}


def _encode(data: Any, where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(data):
        value = getattr(data, field.name)
        place = f"{where}.{field.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields[field.name] = {_NESTED: _encode(value, place)}
        else:
            fields[field.name] = jsonvalues.encode(value, place)
    return fields


def _decode(stored: Any, data_type: type, uri: str) -> Any:
    if not isinstance(stored, dict):
        raise MaterializerError(
            f"data.json of the artifact at {uri!r} holds no fields object; it was edited "
            "after it was written: check it with `lineagelog audit`"
        )
    try:
        hints = typing.get_type_hints(data_type)
    except Exception:  # unresolvable annotations: nested dataclasses then load as dicts
        hints = {}
    kwargs: dict[str, Any] = {}
    later: dict[str, Any] = {}
    for field in dataclasses.fields(data_type):
        if field.name not in stored:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise MaterializerError(
                    f"the artifact at {uri!r} has no value for field {field.name!r} of "
                    f"{data_type.__qualname__}; the class gained a required field since it was "
                    "saved: give the field a default"
                )
            continue
        value = stored[field.name]
        if isinstance(value, dict) and set(value) == {_NESTED}:
            nested = _dataclass_in(hints.get(field.name))
            value = (
                _decode(value[_NESTED], nested, uri)
                if nested is not None
                else jsonvalues.decode(value[_NESTED])
            )
        else:
            value = jsonvalues.decode(value)
        (kwargs if field.init else later)[field.name] = value
    instance = data_type(**kwargs)
    for name, value in later.items():
        object.__setattr__(instance, name, value)
    return instance


def _dataclass_in(hint: Any) -> type | None:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    for argument in typing.get_args(hint):  # Optional[X], X | None
        if isinstance(argument, type) and dataclasses.is_dataclass(argument):
            return argument
    return None
