"""Linear models used by the reranking and decision stages, and their (offline) fitting. Pure.

- :class:`LinearModel` scores feature rows with weights over standardised features.
- :func:`fit_listwise` fits a reranker: per query a softmax over its candidates, maximising the
  probability mass on the correct services (ListNet-style), with L2 regularisation.
- :func:`fit_logistic` fits a binary logistic model (the decision's confidence).

Both use plain gradient descent on small data (hundreds of queries); no randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["LinearModel", "fit_listwise", "fit_logistic", "sigmoid"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LinearModel:
    names: tuple[str, ...]
    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    bias: float = 0.0

    def score(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        x = np.asarray(features, dtype=np.float64)
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        return (z @ np.asarray(self.weights) + self.bias).astype(np.float32)

    def to_dict(self) -> dict[str, object]:
        return {"names": list(self.names), "weights": list(self.weights),
                "mean": list(self.mean), "scale": list(self.scale), "bias": self.bias}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LinearModel:
        def floats(key: str) -> tuple[float, ...]:
            value = data[key]
            assert isinstance(value, list)
            return tuple(float(v) for v in value)

        names = data["names"]
        assert isinstance(names, list)
        bias = data.get("bias", 0.0)
        return cls(tuple(str(n) for n in names), floats("weights"), floats("mean"),
                   floats("scale"), float(bias) if isinstance(bias, (int, float)) else 0.0)


def sigmoid(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    z = np.asarray(x, dtype=np.float64)
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                    np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def _standardise(rows: FloatArray) -> tuple[FloatArray, FloatArray]:
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean, scale


def fit_listwise(
    groups: Sequence[npt.ArrayLike],
    labels: Sequence[npt.ArrayLike],
    names: Sequence[str],
    *,
    l2: float = 1e-2,
    steps: int = 1500,
    lr: float = 0.2,
) -> LinearModel:
    """Fit weights so that the softmax over each group's candidates favours label-1 rows.

    Groups without any positive row carry no ranking signal and are skipped.
    """
    xs = [np.asarray(g, dtype=np.float64) for g in groups]
    ys = [np.asarray(y, dtype=np.float64) for y in labels]
    keep = [i for i, y in enumerate(ys) if y.sum() > 0 and len(y) > 1]
    if not keep:
        raise ValueError("no group with a correct candidate")
    mean, scale = _standardise(np.concatenate([xs[i] for i in keep]))
    zs = [(xs[i] - mean) / scale for i in keep]
    ts = [ys[i] / ys[i].sum() for i in keep]
    w = np.zeros(len(names))
    for _ in range(steps):
        grad = l2 * w
        for z, t in zip(zs, ts):
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += z.T @ (p - t) / len(zs)
        w -= lr * grad
    return LinearModel(tuple(names), tuple(float(v) for v in w), tuple(float(v) for v in mean),
                       tuple(float(v) for v in scale), 0.0)


def fit_logistic(
    rows: npt.ArrayLike,
    targets: npt.ArrayLike,
    names: Sequence[str],
    *,
    l2: float = 1e-2,
    steps: int = 3000,
    lr: float = 0.3,
) -> LinearModel:
    """Binary logistic regression on standardised features."""
    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    mean, scale = _standardise(x)
    z = (x - mean) / scale
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = sigmoid(z @ w + b)
        grad_w = z.T @ (p - y) / len(y) + l2 * w
        grad_b = float(np.mean(p - y))
        w -= lr * grad_w
        b -= lr * grad_b
    return LinearModel(tuple(names), tuple(float(v) for v in w), tuple(float(v) for v in mean),
                       tuple(float(v) for v in scale), float(b))
