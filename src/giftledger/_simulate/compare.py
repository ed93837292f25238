"""One population, several economies, side by side.

:func:`compare` runs :func:`~giftledger.simulate` once per economy with the same
:class:`~giftledger.Population` and seed. The population's plan does not look at
any economy (see :mod:`giftledger._simulate.population`): the same viewers watch
the same creators at the same times and mean to spend the same money in the same
gift shares, so each difference in the figures is the rules' doing (the packs
and catalog the money maps onto, the fees, the creator's pay, the thresholds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any

import attrs
from moneyed import Money

from .._economy.rules import Economy
from .._errors import InvalidArgument
from .figures import _text
from .population import Population
from .runner import ProgressCallback, SimulationResult, preflight, resolve_economy, simulate

__all__ = ["Comparison", "compare"]

EconomySpec = Economy | str | tuple[str, Mapping[str, str]]


@attrs.frozen(slots=True)
class Comparison:
    """What :func:`compare` returns: one :class:`SimulationResult` per economy.

    Attributes:
        results: in the order the economies were given; the first is the baseline.
        seed: the plan's seed; population: the behaviour, the same for all.
    """

    results: tuple[SimulationResult, ...]
    seed: int
    population: Population

    @property
    def labels(self) -> tuple[str, ...]:
        """Each economy's label (``name[axis=option]``), made unique with ``#n``."""
        seen: dict[str, int] = {}
        out = []
        for r in self.results:
            n = seen[r.label] = seen.get(r.label, 0) + 1
            out.append(r.label if n == 1 else f"{r.label}#{n}")
        return tuple(out)

    def differences(self) -> list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]:
        """``(figure, values per economy, value − baseline per other economy)``.

        A difference is None where it has no meaning (text, None, different
        currencies). Figures only some economies have (a channel one of them does
        not sell on) are zero or None for the others.
        """
        tables = [dict(r.figures.items()) for r in self.results]
        labels: list[str] = []
        for r in self.results:
            for label, _ in r.figures.items():
                if label not in labels:
                    labels.append(label)
        out = []
        for label in labels:
            values = tuple(t.get(label) for t in tables)
            base = values[0]
            out.append((label, values, tuple(_minus(v, base) for v in values[1:])))
        return out

    def rows(self) -> list[tuple[str, ...]]:
        """The differences as text: figure, each value, then each ``Δ vs baseline``."""
        return [
            (label, *(_text(v, label) for v in values), *(_delta(d, label) for d in deltas))
            for label, values, deltas in self.differences()
        ]

    def header(self) -> tuple[str, ...]:
        """Column titles matching :meth:`rows`."""
        labels = self.labels
        return ("figure", *labels, *(f"Δ {b} − {labels[0]}" for b in labels[1:]))

    def close(self) -> None:
        """Close every result's ledger."""
        for r in self.results:
            r.ledger.close()


def _minus(value: Any, base: Any) -> Any:
    if isinstance(value, bool) or isinstance(base, bool):
        return None
    if isinstance(value, Money) and isinstance(base, Money):
        if value.currency != base.currency:
            return None
        return value - base
    if isinstance(value, int | Fraction) and isinstance(base, int | Fraction):
        return value - base
    return None


def _delta(value: Any, label: str) -> str:
    if value is None:
        return ""
    text = _text(value, label)
    return text if text.startswith("-") else f"+{text}"


def compare(
    economies: Sequence[EconomySpec],
    *,
    viewers: int,
    creators: int,
    days: int,
    seed: int = 0,
    store: str = "memory:",
    population: Population | None = None,
    rates: object = None,
    start: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> Comparison:
    """Run the same population under two or more economies.

    Args:
        economies: each an :class:`~giftledger.Economy`, a preset's name, or
            ``(preset name, {axis: option})`` for a variant.
        viewers: as for :func:`~giftledger.simulate`, shared by every run.
        creators: likewise.
        days: likewise.
        seed: likewise; the same seed gives every economy the same population.
        population: likewise.
        rates: likewise.
        progress: likewise.
        store: ``"memory:"``, or a URL with ``{index}`` in it
            (``"sqlite:///cmp-{index}.db"``), filled with 0, 1 … per economy.
        start: when the first day starts for every economy; default: each
            economy's latest rules (so each runs under its current terms).

    Returns:
        A :class:`Comparison`; ``differences()`` gives the figures side by side.

    Raises:
        InvalidArgument: fewer than two economies, a store URL that would be
            shared by two runs.

    Example:
        >>> import giftledger as gl
        >>> cmp = gl.compare([("tiktok-live", {"model": "A"}), ("tiktok-live", {"model": "B"})],
        ...                  viewers=20, creators=3, days=1, seed=3)
        >>> cmp.labels
        ('tiktok-live', 'tiktok-live[model=B]')
        >>> a, b = (r.figures for r in cmp.results)
        >>> a.fiat_in == b.fiat_in and b.to_creators < a.to_creators
        True
    """
    if isinstance(economies, str | Economy) or len(economies) < 2:
        raise InvalidArgument("compare needs two or more economies")
    if store != "memory:" and "{index}" not in store:
        raise InvalidArgument(
            f"store {store!r}: each economy needs its own ledger; put {{index}} in the URL "
            f"(sqlite:///cmp-{{index}}.db) or use memory:"
        )
    resolved: list[Economy] = []
    for spec in economies:
        if isinstance(spec, tuple):
            if len(spec) != 2:
                raise InvalidArgument(f"economy {spec!r} must be (preset name, {{axis: option}})")
            resolved.append(resolve_economy(spec[0], spec[1]))
        else:
            resolved.append(resolve_economy(spec, None))
    pop = population if population is not None else Population()
    if not isinstance(pop, Population):
        raise InvalidArgument(f"population {pop!r} must be a giftledger.Population")
    for econ in resolved:  # every economy is checked before any ledger is written
        preflight(econ, pop, rates, start, viewers=viewers, creators=creators, days=days)
    results: list[SimulationResult] = []
    try:
        for i, econ in enumerate(resolved):
            results.append(
                simulate(
                    econ,
                    viewers=viewers,
                    creators=creators,
                    days=days,
                    seed=seed,
                    store=store.replace("{index}", str(i)),
                    population=pop,
                    rates=rates,
                    start=start,
                    progress=progress,
                )
            )
    except BaseException:
        for r in results:
            r.ledger.close()
        raise
    return Comparison(tuple(results), seed, pop)
