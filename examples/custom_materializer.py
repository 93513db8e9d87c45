"""A custom materializer, written the ZenML way, for a small domain class.

A ``Vocabulary`` (token -> id, with counts) is not a type lineagelog knows.
``VocabularyMaterializer`` teaches it how to store one:

- ``ASSOCIATED_TYPES`` says which Python types it handles. Defining the class
  registers it, so any step returning a ``Vocabulary`` uses it (subclasses too:
  the registry walks the type's MRO).
- ``ASSOCIATED_ARTIFACT_TYPE`` says what kind of artifact it is (data, model...).
- ``save`` / ``load`` write and read files under ``self.uri`` through
  ``self.artifact_store``, never with ``open()``, so the same code works on a
  local folder, ``memory://`` or ``s3://``. Loading must not need the original
  process: only the files.
- ``save_visualizations`` writes files under ``<uri>/visualizations/`` and
  returns ``{path: VisualizationType}``; ``ArtifactVersion.visualize()`` shows
  them in Jupyter (here a Markdown table and a CSV of the most frequent tokens).
- ``extract_metadata`` returns JSON facts recorded with the version
  (``storage_size`` is added for you); users read them in
  ``ArtifactVersion.metadata`` and ``lineagelog artifacts show``.

Run it: ``python -m lineagelog.examples.custom_materializer``.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from lineagelog.api import (
    ArtifactType,
    BaseMaterializer,
    Client,
    VisualizationType,
    pipeline,
    step,
)

TOP = 10


@dataclass
class Vocabulary:
    """Tokens with their ids (by first appearance) and their counts."""

    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, texts: list[str]) -> Vocabulary:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text.lower().split())
        return cls(dict(counts))

    def ids(self) -> dict[str, int]:
        return {token: index for index, token in enumerate(self.counts)}

    def encode(self, text: str) -> list[int]:
        ids = self.ids()
        return [ids[token] for token in text.lower().split() if token in ids]

    def most_common(self, n: int = TOP) -> list[tuple[str, int]]:
        return Counter(self.counts).most_common(n)


class VocabularyMaterializer(BaseMaterializer):
    """Stores a ``Vocabulary`` as ``vocabulary.json`` (token order is the id order)."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Vocabulary,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Vocabulary) -> None:
        payload = {"format": 1, "tokens": list(data.counts), "counts": list(data.counts.values())}
        self.artifact_store.write_text(self.path("vocabulary.json"), json.dumps(payload))

    def load(self, data_type: type) -> Vocabulary:
        payload = json.loads(self.artifact_store.read_text(self.path("vocabulary.json")))
        vocabulary = data_type(dict(zip(payload["tokens"], payload["counts"], strict=True)))
        assert isinstance(vocabulary, Vocabulary)
        return vocabulary

    def save_visualizations(self, data: Vocabulary) -> dict[str, VisualizationType]:
        top = data.most_common()
        table = "\n".join(f"| {token} | {count} |" for token, count in top)
        markdown = (
            f"### Vocabulary: {len(data.counts)} tokens\n\n| token | count |\n|---|---|\n{table}\n"
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["token", "count"])
        writer.writerows(top)
        summary, frequent = (
            self.visualization_path("summary.md"),
            self.visualization_path("top.csv"),
        )
        self.artifact_store.write_text(summary, markdown)
        self.artifact_store.write_text(frequent, buffer.getvalue())
        return {summary: VisualizationType.MARKDOWN, frequent: VisualizationType.CSV}

    def extract_metadata(self, data: Vocabulary) -> dict[str, Any]:
        top = data.most_common(1)
        return {
            "tokens": len(data.counts),
            "total_count": sum(data.counts.values()),
            "most_common": top[0][0] if top else None,
        }


@step
def build_vocabulary(texts: list[str]) -> Annotated[Vocabulary, "vocabulary"]:
    return Vocabulary.build(texts)


@step
def encode(vocabulary: Vocabulary, texts: list[str]) -> Annotated[list[list[int]], "encoded"]:
    return [vocabulary.encode(text) for text in texts]


@pipeline
def tokenize(texts: list[str]) -> None:
    encode(build_vocabulary(texts), texts)


CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]

if __name__ == "__main__":
    tokenize(CORPUS)
    vocabulary = Client().get_artifact_version("vocabulary")
    print(vocabulary, vocabulary.metadata)
    print(vocabulary.load().most_common(3))
    vocabulary.visualize()
