"""Which materializer saves a given value (what step outputs and ``save_artifact`` use).

``materializer_for`` chooses by type; a value can say more: a list whose
elements have no materializer is refused by the container materializer, so
with the pickle fallback on it is pickled whole instead (its elements are never
pickled one by one, so loading it needs only the usual opt-in for the artifact
itself).
"""

from __future__ import annotations

from typing import Any

from lineagelog.adapters.materializers.base import BaseMaterializer
from lineagelog.adapters.materializers.builtins import BuiltInContainerMaterializer
from lineagelog.adapters.materializers.containers import check_savable
from lineagelog.adapters.materializers.fallback import fallback_materializer
from lineagelog.adapters.materializers.registry import materializer_for
from lineagelog.domain.errors import NoMaterializerError

__all__ = ["materializer_for_value"]


def materializer_for_value(
    value: Any, *, context: str | None = None, pickle_fallback: bool = False
) -> type[BaseMaterializer]:
    """Return the materializer that saves ``value``: its type's, else the pickle fallback's.

    Args:
        value: what is about to be saved.
        context: where it comes from, added to the error message.
        pickle_fallback: pickle what nothing else saves (see ``fallback``).

    Raises:
        NoMaterializerError: as ``materializer_for``, when the fallback is off.

    """
    chosen = materializer_for(type(value), context=context, pickle_fallback=pickle_fallback)
    if pickle_fallback and issubclass(chosen, BuiltInContainerMaterializer):
        try:
            check_savable(value)
        except NoMaterializerError:
            return fallback_materializer(type(value))
    return chosen
