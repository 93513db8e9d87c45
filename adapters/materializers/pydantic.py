"""``PydanticMaterializer``: pydantic models as JSON plus the model's import path.

Imported only when a model is saved or loaded (see ``registry``). Loading
rebuilds the same class the value had (``model.json`` names it), validated
from ``data.json``. ``model.json`` is data, so the class it names must already
be imported and be a subclass of the requested type; it is never imported.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import BaseModel

from lineagelog.adapters.materializers.base import ArtifactType, BaseMaterializer
from lineagelog.adapters.materializers.registry import type_source
from lineagelog.adapters.materializers.trusted import loaded_class
from lineagelog.domain.errors import MaterializerError, UntrustedTypeError

__all__ = ["PydanticMaterializer"]

DATA_JSON = "data.json"
MODEL_JSON = "model.json"


class PydanticMaterializer(BaseMaterializer):
    """``pydantic.BaseModel`` subclasses as ``data.json`` and ``model.json``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (BaseModel,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Write the model's JSON and its class's import path."""
        self.artifact_store.write_text(self.path(DATA_JSON), data.model_dump_json())
        self.artifact_store.write_text(
            self.path(MODEL_JSON), json.dumps({"model": type_source(type(data))})
        )

    def load(self, data_type: type) -> Any:
        """Validate ``data.json`` with the model class it was saved from."""
        source = json.loads(self.artifact_store.read_text(self.path(MODEL_JSON)))["model"]
        if not isinstance(source, str):
            raise MaterializerError(
                f"{self.path(MODEL_JSON)} names {source!r}, not a 'module:qualname' model class"
            )
        model = data_type if type_source(data_type) == source else loaded_class(source)
        if model is None:
            raise UntrustedTypeError(
                f"the artifact at {self.uri!r} holds a {source!r} model, which is not imported "
                f"in this process; import the module that defines it "
                f"({source.split(':', 1)[0]!r}) before loading (lineagelog never imports a "
                "module named by stored files)"
            )
        if not issubclass(model, BaseModel):
            raise MaterializerError(f"{source!r} is no longer a pydantic model class")
        if isinstance(data_type, type) and not issubclass(model, data_type):
            raise MaterializerError(
                f"the artifact at {self.uri!r} holds a {source!r}, not a {type_source(data_type)!r}"
            )
        return model.model_validate_json(self.artifact_store.read_text(self.path(DATA_JSON)))

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the schema (class) name and its import path."""
        return {"schema_name": type(data).__name__, "model": type_source(type(data))}
