"""The demo pipeline: a small, dependency-free "training" run with a model and metrics."""

from __future__ import annotations

import random
from typing import Annotated

from lineagelog.api import pipeline, step


@step
def load_data(rows: int = 200, seed: int = 7) -> Annotated[list[list[float]], "dataset"]:
    rng = random.Random(seed)
    data = []
    for _ in range(rows):
        x = rng.uniform(-1, 1)
        data.append([x, 3.0 * x + 0.5 + rng.gauss(0, 0.1)])
    return data


@step
def split_data(
    dataset: list[list[float]], test_fraction: float = 0.25
) -> tuple[Annotated[list[list[float]], "train_set"], Annotated[list[list[float]], "test_set"]]:
    cut = int(len(dataset) * (1 - test_fraction))
    return dataset[:cut], dataset[cut:]


@step
def train(
    train_set: list[list[float]], lr: float = 0.1, epochs: int = 200
) -> Annotated[dict[str, float], "model"]:
    w, b = 0.0, 0.0
    n = len(train_set)
    for _ in range(epochs):
        gw = sum((w * x + b - y) * x for x, y in train_set) * 2 / n
        gb = sum((w * x + b - y) for x, y in train_set) * 2 / n
        w, b = w - lr * gw, b - lr * gb
    return {"weight": w, "bias": b}


@step(enable_cache=False)
def evaluate(
    model: dict[str, float], test_set: list[list[float]]
) -> Annotated[dict[str, float], "metrics"]:
    errors = [(model["weight"] * x + model["bias"] - y) ** 2 for x, y in test_set]
    return {"mse": sum(errors) / len(errors), "n": float(len(errors))}


@pipeline
def training(rows: int = 200, lr: float = 0.1) -> None:
    train_set, test_set = split_data(load_data(rows=rows))
    model = train(train_set, lr=lr)
    evaluate(model, test_set)
