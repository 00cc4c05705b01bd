"""Value distributions of a scenario: constants, ``uniform``, ``uniform_int``, ``normal``, ``choice``, ``sequence``.

Every distribution draws ``count`` values at once from a ``numpy.random.Generator`` (one value per
selected prim); ``sequence`` draws nothing and returns item ``step % len`` (cycled by frame). Values
are scalars (shape ``()``), vectors (shape ``(n,)``) or, for ``choice`` / ``sequence`` / constants,
text (prim paths, corner names). Parsing and validation live in ``scenario_file.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


class Distribution(ABC):
    """Base of every distribution: :meth:`sample` returns ``(count, *shape)`` values."""

    @property
    @abstractmethod
    def shape(self) -> tuple[int, ...]:
        """Shape of one value: ``()`` for a scalar, ``(3,)`` for a 3-vector."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        """``count`` values for the frame whose application number is ``step``."""


@dataclass(frozen=True, eq=False)
class Constant(Distribution):
    """The same value every time (a number, a vector or a text)."""

    value: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        return np.broadcast_to(self.value, (count, *self.value.shape)).copy()


@dataclass(frozen=True, eq=False)
class Uniform(Distribution):
    """Uniform in ``[low, high)`` per component."""

    low: np.ndarray
    high: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.low.shape

    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=(count, *self.low.shape))


@dataclass(frozen=True, eq=False)
class UniformInt(Uniform):
    """Uniform integers in ``[low, high]``, both ends included."""

    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        return rng.integers(self.low, self.high, endpoint=True, size=(count, *self.low.shape))


@dataclass(frozen=True, eq=False)
class Normal(Distribution):
    """Gaussian with ``mean`` and standard deviation ``std`` per component, clipped to ``[low, high]`` (the
    range of the key it feeds, e.g. no negative intensity)."""

    mean: np.ndarray
    std: np.ndarray
    low: float | None = None
    high: float | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mean.shape

    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        values = rng.normal(self.mean, self.std, size=(count, *self.mean.shape))
        if self.low is not None or self.high is not None:
            values = np.clip(values, self.low, self.high)
        return values


@dataclass(frozen=True, eq=False)
class Choice(Distribution):
    """One of ``options`` (stacked along axis 0) per draw, with optional ``weights`` (summing to 1)."""

    options: np.ndarray
    weights: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.options.shape[1:]

    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        picks = rng.choice(len(self.options), size=count, p=self.weights)
        return self.options[picks]


@dataclass(frozen=True, eq=False)
class Sequence(Distribution):
    """Item ``step % len(items)`` for every draw of a frame: the items cycle frame by frame."""

    items: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.items.shape[1:]

    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        index = step % len(self.items)
        return np.repeat(self.items[index : index + 1], count, axis=0)


@dataclass(frozen=True, eq=False)
class Components(Distribution):
    """A vector whose components are scalar distributions of their own, e.g. ``[{uniform: [1, 2]}, 0, 0]``."""

    parts: tuple[Distribution, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.parts),)

    def sample(self, rng: np.random.Generator, count: int, step: int) -> np.ndarray:
        return np.stack([part.sample(rng, count, step).astype(np.float64) for part in self.parts], axis=1)
