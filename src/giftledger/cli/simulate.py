"""``giftledger simulate`` and ``giftledger compare``: a synthetic population, summed up.

Every argument is checked before a store is opened, so a bad one writes nothing.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

import giftledger as gl
from giftledger._simulate.population import MAX_CREATORS, MAX_DAYS, MAX_VIEWERS

from ._common import (
    Fail,
    console,
    echo_json,
    json_option,
    progress_bar,
    shown_url,
    sqlite_path,
    store_url,
)

__all__ = ["compare", "simulate"]

F = TypeVar("F", bound=Callable[..., Any])

_SPEC = re.compile(r"^([a-z0-9-]+)(?:\[([^\]]*)\])?$")


def _variants(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        axis, sep, option = pair.partition("=")
        if not sep or not axis.strip() or not option.strip():
            raise Fail(f"--variant {pair!r} must be AXIS=OPTION (model=B)")
        if axis.strip() in out:
            raise Fail(f"--variant {axis.strip()!r} is given twice")
        out[axis.strip()] = option.strip()
    return out


def _preset(spec: str, variants: dict[str, str] | None = None) -> gl.Economy:
    """``name`` or ``name[axis=option,…]``, loaded (an unknown one is one error line)."""
    m = _SPEC.match(spec.strip())
    if m is None:
        raise Fail(f"--preset {spec!r} must be NAME or NAME[axis=option,…]")
    given = _variants(tuple(p for p in (m.group(2) or "").split(",") if p.strip()))
    given.update(variants or {})
    return gl.presets.load(m.group(1), **given)


def _economy_file(path: Path) -> gl.Economy:
    if not path.is_file():
        raise Fail(f"no economy file {str(path)!r}")
    return gl.load_economy(path)


def _fresh_store(ledger: str) -> str:
    """The store URL of ``--ledger``; a SQLite file must not exist yet."""
    url = store_url(ledger)
    path = sqlite_path(url)
    if path is not None:
        if path.exists():
            raise Fail(f"{str(path)!r} already exists; a simulation writes a new ledger")
        if not path.parent.is_dir():
            raise Fail(f"no directory {str(path.parent)!r} for the ledger {str(path)!r}")
        _writable(path.parent, f"the ledger {str(path)!r}")
    return url


def _writable(directory: Path, what: str) -> None:
    """Refuse a directory this process cannot create a file in (probed, then removed)."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise Fail(f"cannot write {what} in {str(directory)!r}: {exc.strerror or exc}") from None


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int, int], None] | None]:
    """:func:`progress_bar` over the simulated days, counting the gifts in its label."""
    with progress_bar(label) as bar:
        if bar is None:
            yield None
            return

        def update(done: int, total: int, gifts: int) -> None:
            bar(done, total, f"{label}: {gifts:,} gifts")

        yield update


_CAPS = {"viewers": MAX_VIEWERS, "creators": MAX_CREATORS, "days": MAX_DAYS}


def _size(name: str) -> Callable[[F], F]:
    cap = click.IntRange(min=1, max=_CAPS[name])
    return click.option(f"--{name}", type=cap, required=True, metavar="N")


def _population(command: Any) -> Any:
    """The population's options, shared by simulate and compare."""
    for option in reversed(
        (
            _size("viewers"),
            _size("creators"),
            _size("days"),
            click.option(
                "--seed", type=int, default=0, show_default=True, help="The population's seed."
            ),
        )
    ):
        command = option(command)
    return command


@click.command()
@click.option("--preset", metavar="NAME", help="A shipped preset (see 'giftledger presets').")
@click.option(
    "--variant", "variant_pairs", multiple=True, metavar="AXIS=OPTION", help="A preset option."
)
@click.option(
    "--economy",
    "economy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.toml",
    help="Rules from a TOML file instead of a preset.",
)
@_population
@click.option(
    "--ledger",
    default="memory:",
    show_default=True,
    metavar="URL",
    help="Where the books go: memory:, a new SQLite file's path or URL, postgresql://…",
)
@json_option
def simulate(
    preset: str | None,
    variant_pairs: tuple[str, ...],
    economy_file: Path | None,
    viewers: int,
    creators: int,
    days: int,
    seed: int,
    ledger: str,
    as_json: bool,
) -> None:
    """Run a synthetic population through an economy's real chain and sum it up.

    Viewers buy packs (mostly small ones), gift creators (a few creators get most
    gifts: Zipf's law), some ask for refunds; creators convert and withdraw; view
    pay comes from the rules' rewards program. See docs/simulate.md. JSON keys:
    economy, seed, ledger, figures.
    """
    if (preset is None) == (economy_file is None):
        raise Fail("give --preset NAME or --economy FILE (one of them)")
    variants = _variants(variant_pairs)
    if economy_file is not None:
        if variants:
            raise Fail("--variant applies to --preset, not to --economy")
        econ = _economy_file(economy_file)
    else:
        assert preset is not None
        econ = _preset(preset, variants)
    url = _fresh_store(ledger)
    with _progress("simulating") as progress:
        result = gl.simulate(
            econ,
            viewers=viewers,
            creators=creators,
            days=days,
            seed=seed,
            store=url,
            progress=progress,
        )
    try:
        f = result.figures
        if as_json:
            echo_json(
                "simulate",
                {
                    "economy": result.label,
                    "seed": seed,
                    "ledger": shown_url(url),
                    "figures": f.as_json(),
                },
            )
            return
        table = Table("figure", "value", title=f"{result.label}, seed {seed}")
        table.columns[1].justify = "right"
        for label, value in f.rows():
            table.add_row(label, value)
        console().print(table)
    finally:
        result.ledger.close()


@click.command()
@click.option(
    "--preset",
    "presets",
    multiple=True,
    metavar="NAME[axis=option,…]",
    help="A preset to compare, with options in brackets; repeat it.",
)
@click.option(
    "--economy",
    "economy_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.toml",
    help="Rules from a TOML file to compare; repeat it.",
)
@_population
@click.option(
    "--ledger",
    default="memory:",
    show_default=True,
    metavar="URL",
    help="memory:, or a URL with {index} in it (sqlite:///cmp-{index}.db), one per economy.",
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="OUT.svg",
    help="Also draw a grouped bar chart (.svg or .png; needs the charts extra).",
)
@json_option
def compare(
    presets: tuple[str, ...],
    economy_files: tuple[Path, ...],
    viewers: int,
    creators: int,
    days: int,
    seed: int,
    ledger: str,
    chart: Path | None,
    as_json: bool,
) -> None:
    """Run the same population under two or more economies; print them side by side.

    The population decides in money (budgets, gift shares, whom to watch) without
    looking at the rules, so each difference is the rules' doing. Presets come
    first, then the files, in the order given; the first is the baseline of the Δ
    columns. JSON keys: seed, economies, figures (one object per economy), chart.
    """
    econs = [_preset(p) for p in presets] + [_economy_file(f) for f in economy_files]
    if len(econs) < 2:
        raise Fail("compare needs two or more economies (--preset, --economy)")
    url = ledger if ledger == "memory:" else store_url(ledger)
    if url != "memory:":
        if "{index}" not in url:
            raise Fail(f"--ledger {ledger!r} must contain {{index}}: each economy needs a ledger")
        for i in range(len(econs)):
            _fresh_store(url.replace("{index}", str(i)))
    render = None
    if chart is not None:
        if chart.suffix.lower() not in (".svg", ".png"):
            raise Fail(f"--chart {str(chart)!r} must end in .svg or .png")
        if not chart.parent.is_dir():
            raise Fail(f"no directory {str(chart.parent)!r} for the chart")
        _writable(chart.parent, "the chart")
        try:
            from giftledger.charts import render_comparison
        except ModuleNotFoundError as exc:
            raise Fail(f"{exc}") from None
        render = render_comparison
    with _progress("comparing") as progress:
        cmp = gl.compare(
            econs,
            viewers=viewers,
            creators=creators,
            days=days,
            seed=seed,
            store=url,
            progress=progress,
        )
    try:
        if render is not None:
            assert chart is not None
            render(cmp, chart)
        if as_json:
            echo_json(
                "compare",
                {
                    "seed": seed,
                    "economies": list(cmp.labels),
                    "figures": [
                        {"economy": label, **r.figures.as_json()}
                        for label, r in zip(cmp.labels, cmp.results, strict=True)
                    ],
                    "chart": str(chart) if chart is not None else None,
                },
            )
            return
        header = cmp.header()
        table = Table(*header, title=f"One population, seed {seed}")
        for col in table.columns[1:]:
            col.justify = "right"
        for row in cmp.rows():
            table.add_row(*row)
        console(width=max(100, 28 * len(header))).print(table)
        if chart is not None:
            click.echo(f"chart: {chart}")
    finally:
        cmp.close()
