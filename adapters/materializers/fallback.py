"""The project-wide pickle fallback, for types without a materializer (off by default).

With the fallback off, saving a type nobody registered a materializer for
raises ``NoMaterializerError`` naming the type and the two ways out
(``no_materializer_message``). With it on (the api turns it on from
``configure(pickle_fallback=True)`` or ``LINEAGELOG_PICKLE_FALLBACK=1``), such
a type is pickled with cloudpickle by ``PickleFallbackMaterializer``, as ZenML
falls back to its ``CloudpickleMaterializer``: a warning once per type and
process, the Python version recorded with the artifact, and the fallback's
name in the artifact's event. Loading the pickle still needs the load-time
opt-in (``allow_pickle``).
"""

from __future__ import annotations

import threading
import warnings

from lineagelog.adapters.materializers.pickle import PickleFallbackMaterializer
from lineagelog.adapters.materializers.sources import type_source

__all__ = ["fallback_materializer", "no_materializer_message"]

_warned: set[type] = set()
_lock = threading.Lock()


def no_materializer_message(data_type: type, where: str = "") -> str:
    """Why ``data_type`` cannot be saved, and the two ways out."""
    name = data_type.__qualname__
    return (
        f"no materializer can save type {type_source(data_type)!r}{where}. Either write one "
        f"(subclass lineagelog's BaseMaterializer with ASSOCIATED_TYPES = ({name},) and "
        "implement save/load, in a module imported before the run), or opt in to the "
        "project-wide pickle fallback: configure(pickle_fallback=True) or "
        "LINEAGELOG_PICKLE_FALLBACK=1 (cloudpickle, needs `pip install lineagelog[pickle]`; "
        "loading a pickle runs code, so it also needs load(allow_pickle=True)). For one step "
        "only: @step(output_materializers=PickleMaterializer)"
    )


def fallback_materializer(data_type: type) -> type[PickleFallbackMaterializer]:
    """The fallback's materializer for ``data_type``; warns the first time per type."""
    with _lock:
        first = data_type not in _warned
        _warned.add(data_type)
    if first:
        warnings.warn(
            f"no materializer is registered for type {type_source(data_type)!r}, so it is "
            "pickled with cloudpickle (the pickle fallback is on). A pickle may not load under "
            "another Python version, and loading it runs code, so it needs "
            "load(allow_pickle=True); write a materializer for "
            f"{data_type.__qualname__} to store it safely",
            UserWarning,
            stacklevel=3,
        )
    return PickleFallbackMaterializer
