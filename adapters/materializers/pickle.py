"""``PickleMaterializer``: any picklable value, only for users who opt in.

Pickle is never chosen automatically: the user names it for a step
(``output_materializers=PickleMaterializer``), or turns on the project-wide
fallback (``configure(pickle_fallback=True)``), which saves types without a
materializer with ``PickleFallbackMaterializer``. Saving needs ``cloudpickle``
(``pip install lineagelog[pickle]``).

Loading a pickle runs code from the file, so ``load`` raises
``UnsafeLoadError`` unless loading was allowed, in one of three ways (any one
suffices):

- per materializer: ``PickleMaterializer(uri, store, allow_load=True)``, which
  ``load_artifact(..., allow_pickle=True)`` does;
- per block (a step, a thread, an asyncio task): ``with pickle_permission(True): ...``,
  a context variable; ``pickle_permission(False)`` forbids it inside the block
  even when it is allowed globally;
- for the whole process: ``allow_pickle(True)``.

The file records the Python version that wrote it; loading under another
minor version warns, since pickles of code rarely survive that.
"""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from lineagelog.adapters.materializers.base import ArtifactType, BaseMaterializer
from lineagelog.domain.errors import MaterializerError, UnsafeLoadError, UntrustedTypeError

if TYPE_CHECKING:
    from types import ModuleType

    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = [
    "PickleFallbackMaterializer",
    "PickleMaterializer",
    "allow_pickle",
    "pickle_allowed",
    "pickle_permission",
]

DATA_PKL = "data.pkl"
INFO_JSON = "pickle.json"

_allowed_globally = False
_allowed_here: ContextVar[bool | None] = ContextVar("lineagelog_allow_pickle", default=None)


def allow_pickle(enabled: bool) -> None:
    """Allow (or forbid again) loading pickled artifacts in the whole process."""
    global _allowed_globally
    _allowed_globally = bool(enabled)


@contextlib.contextmanager
def pickle_permission(enabled: bool = True) -> Iterator[None]:
    """Allow (or forbid) loading pickled artifacts inside a ``with`` block.

    The setting is a context variable, so it holds for the current thread or
    asyncio task only and overrides ``allow_pickle`` there.
    """
    token = _allowed_here.set(bool(enabled))
    try:
        yield
    finally:
        _allowed_here.reset(token)


def pickle_allowed() -> bool:
    """Whether loading pickles is allowed here (the block's setting, else the global one)."""
    here = _allowed_here.get()
    return _allowed_globally if here is None else here


class PickleMaterializer(BaseMaterializer):
    """Any value cloudpickle can write, as ``data.pkl`` plus ``pickle.json``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SELF_DESCRIBING: ClassVar[bool] = True

    def __init__(
        self, uri: str, artifact_store: ArtifactStore | None = None, *, allow_load: bool = False
    ) -> None:
        super().__init__(uri, artifact_store)
        self.allow_load = allow_load

    def save(self, data: Any) -> None:
        """Pickle ``data`` with cloudpickle and record the Python version."""
        import pickle

        cloudpickle = _cloudpickle()
        try:
            payload = cloudpickle.dumps(data, protocol=pickle.DEFAULT_PROTOCOL)
        except Exception as e:
            raise MaterializerError(
                f"cannot pickle a {type(data).__qualname__} ({e}); write a materializer for it "
                "(subclass BaseMaterializer with ASSOCIATED_TYPES)"
            ) from e
        self.artifact_store.write_bytes(self.path(DATA_PKL), payload)
        self.artifact_store.write_text(self.path(INFO_JSON), json.dumps(_info(cloudpickle)))

    def load(self, data_type: type) -> Any:
        """Unpickle the value, if loading pickles is allowed.

        Raises:
            UnsafeLoadError: when neither ``allow_load``, ``pickle_permission``
                nor ``allow_pickle`` allows it.

        """
        if not (self.allow_load or pickle_allowed()):
            raise UnsafeLoadError(
                f"the artifact at {self.uri!r} is a pickle, and unpickling runs code from the "
                "file. If you trust who wrote it, opt in: load_artifact(..., allow_pickle=True), "
                "`with pickle_permission(True):` or allow_pickle(True) "
                "(lineagelog.adapters.materializers.pickle)"
            )
        import pickle

        info = json.loads(self.artifact_store.read_text(self.path(INFO_JSON)))
        written_by = str(info.get("python_version", "unknown"))
        if written_by.split(".")[:2] != _python_version().split(".")[:2]:
            warnings.warn(
                f"the artifact at {self.uri!r} was pickled by Python {written_by} and is "
                f"loaded by Python {_python_version()}; it may fail or load wrongly",
                RuntimeWarning,
                stacklevel=2,
            )
        # The standard library reads what cloudpickle wrote; cloudpickle is only for saving.
        try:
            return pickle.loads(self.artifact_store.read_bytes(self.path(DATA_PKL)))
        except (ImportError, AttributeError) as e:
            # A class the pickle refers to by name is missing here: not damaged bytes.
            raise UntrustedTypeError(
                f"the pickle at {self.uri!r} refers to a class this process cannot find ({e}); "
                "install or import the module that defines it, then load again"
            ) from e

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the Python version and pickle protocol."""
        import pickle

        return {"python_version": _python_version(), "protocol": pickle.DEFAULT_PROTOCOL}


class PickleFallbackMaterializer(PickleMaterializer):
    """What the project-wide pickle fallback saves a type without a materializer with.

    ZenML's ``CloudpickleMaterializer`` fallback, chosen only when the fallback
    is on (``configure(pickle_fallback=True)`` or ``LINEAGELOG_PICKLE_FALLBACK=1``):
    the same files as ``PickleMaterializer``, and this class's name in the
    artifact's event and ``"pickle_fallback": true`` in its metadata, so the
    log shows which artifacts were pickled because nothing else could save them.
    Loading them needs the same opt-in as any pickle.
    """

    SKIP_REGISTRATION: ClassVar[bool] = True

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the Python version, the pickle protocol and that the fallback chose pickle."""
        return {**super().extract_metadata(data), "pickle_fallback": True}


def _python_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])


def _info(cloudpickle: ModuleType) -> dict[str, Any]:
    import pickle

    return {
        "python_version": _python_version(),
        "implementation": sys.implementation.name,
        "protocol": pickle.DEFAULT_PROTOCOL,
        "cloudpickle_version": getattr(cloudpickle, "__version__", "unknown"),
    }


def _cloudpickle() -> ModuleType:
    try:
        import cloudpickle  # type: ignore[import-untyped, unused-ignore]
    except ImportError as e:
        raise MaterializerError(
            "saving with PickleMaterializer needs cloudpickle: pip install lineagelog[pickle]"
        ) from e
    module: ModuleType = cloudpickle
    return module
