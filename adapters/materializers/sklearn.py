"""``SklearnMaterializer``: scikit-learn estimators in skops' format, never pickled.

Imported only when an estimator is saved or loaded (see ``registry``); needs
``pip install lineagelog[sklearn]`` (scikit-learn and skops). ZenML pickles
estimators; skops' format is made so that a model can be loaded without
running code chosen by whoever wrote the file: loading names the types the
file needs beyond skops' defaults (``skops.io.get_untrusted_types``), and
lineagelog trusts exactly those of scikit-learn, NumPy and SciPy (the
allow-list ``TRUSTED_PACKAGES``). Anything else, a class or function of your
own inside a ``Pipeline`` for instance, raises ``UntrustedTypeError`` naming the
types: already when saving, so nothing is stored that could not be loaded
back, and again when loading, so a file changed since is refused. Write a
materializer for such a model, or pickle it
(``@step(output_materializers=PickleMaterializer)``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from lineagelog.adapters.materializers.base import ArtifactType, BaseMaterializer
from lineagelog.adapters.materializers.sources import type_source
from lineagelog.domain.errors import MaterializerError, UntrustedTypeError

try:
    import sklearn
    import skops
    import skops.io as sio
    from sklearn.base import (
        BaseEstimator,
        BiclusterMixin,
        ClassifierMixin,
        ClusterMixin,
        DensityMixin,
        MetaEstimatorMixin,
        MultiOutputMixin,
        OutlierMixin,
        RegressorMixin,
        TransformerMixin,
    )
except ImportError as e:  # pragma: no cover - depends on the environment
    raise MaterializerError(
        "scikit-learn models need scikit-learn and skops: pip install lineagelog[sklearn]"
    ) from e

__all__ = ["MODEL_SKOPS", "TRUSTED_PACKAGES", "SklearnMaterializer", "refused_types"]

MODEL_SKOPS = "model.skops"
TRUSTED_PACKAGES = frozenset({"sklearn", "numpy", "scipy"})
"""Top-level packages whose types a skops file may need beyond skops' own defaults."""


def refused_types(untrusted: list[str]) -> list[str]:
    """The names in ``untrusted`` (skops' ``module.name`` form) outside ``TRUSTED_PACKAGES``.

    Examples:
        >>> refused_types(["sklearn.tree._tree.Tree", "my_code.Scaler", "numpy.log1p"])
        ['my_code.Scaler']

    """
    return sorted(name for name in untrusted if name.split(".", 1)[0] not in TRUSTED_PACKAGES)


class SklearnMaterializer(BaseMaterializer):
    """scikit-learn estimators (and pipelines of them) as ``model.skops``."""

    # ZenML's list: estimators, and objects that only mix an estimator role in.
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (
        BaseEstimator,
        ClassifierMixin,
        ClusterMixin,
        BiclusterMixin,
        OutlierMixin,
        RegressorMixin,
        MetaEstimatorMixin,
        MultiOutputMixin,
        DensityMixin,
        TransformerMixin,
    )
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL
    SELF_DESCRIBING: ClassVar[bool] = True

    def save(self, data: Any) -> None:
        """Write ``model.skops``, if every type it needs is on the allow-list.

        Raises:
            UntrustedTypeError: naming the types outside scikit-learn, NumPy and SciPy.

        """
        raw = sio.dumps(data)
        self._check_types(raw, "cannot be saved in skops' format for safe loading")
        self.artifact_store.write_bytes(self.path(MODEL_SKOPS), raw)

    def load(self, data_type: type) -> Any:
        """Read ``model.skops``, trusting only the allow-listed types it names.

        Raises:
            UntrustedTypeError: when the file needs a type outside the allow-list.
            MaterializerError: when the model is not a ``data_type``.

        """
        raw = self.artifact_store.read_bytes(self.path(MODEL_SKOPS))
        trusted = self._check_types(raw, "is refused: loading it would trust them")
        model = sio.loads(raw, trusted=trusted)
        if data_type is not object and not isinstance(model, data_type):
            raise MaterializerError(
                f"the artifact at {self.uri!r} holds a {type_source(type(model))!r}, "
                f"not a {type_source(data_type)!r}"
            )
        return model

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """The estimator's class and the scikit-learn and skops versions that wrote it."""
        return {
            "estimator": type_source(type(data)),
            "sklearn_version": sklearn.__version__,
            "skops_version": skops.__version__,
        }

    def _check_types(self, raw: bytes, outcome: str) -> list[str]:
        untrusted: list[str] = sio.get_untrusted_types(data=raw)
        refused = refused_types(untrusted)
        if refused:
            raise UntrustedTypeError(
                f"the scikit-learn model at {self.uri!r} needs types outside scikit-learn, "
                f"NumPy and SciPy ({', '.join(refused)}), so it {outcome}. Write a "
                "materializer for this model, or pickle it: "
                "@step(output_materializers=PickleMaterializer)"
            )
        return untrusted
