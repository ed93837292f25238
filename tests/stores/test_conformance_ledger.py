"""Acceptance 1: the foundation's ledger tests and its stateful machine, on the durable stores.

The ledger's own tests (``tests/ledger/``) run against the memory store through
the root ``book`` fixture. This module collects every one of them that takes a
``book`` once more, here, where ``book`` is a ledger on SQLite and on
PostgreSQL; and it runs the same Hypothesis state machine, built by
``make_ledger_machine``, with a new database for each example.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import _pytest.fixtures
import pytest
from hypothesis.stateful import run_state_machine_as_test

import giftledger as gl

from ..ledger.machine import machine_settings, make_ledger_machine
from .conftest import _with_schema


@pytest.fixture
def store_url(durable_store_url: str) -> str:
    """The borrowed tests run on the durable stores only; tests/ledger covers memory."""
    return durable_store_url


# pytest >= 8.4 wraps a fixture in FixtureFunctionDefinition; older ones mark the function.
_FIXTURE = getattr(_pytest.fixtures, "FixtureFunctionDefinition", None)


def _is_fixture(obj: object) -> bool:
    if _FIXTURE is not None and isinstance(obj, _FIXTURE):
        return True
    return hasattr(obj, "_pytestfixturefunction")


def _uses_book(obj: object) -> bool:
    if inspect.isclass(obj):
        return any(_uses_book(v) for k, v in vars(obj).items() if k.startswith("test"))
    try:
        return "book" in inspect.signature(obj).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _borrow() -> Iterator[tuple[str, object]]:
    """The tests of tests/ledger that take ``book``, and the fixtures they may need."""
    for path in sorted((Path(__file__).parent.parent / "ledger").glob("test_*.py")):
        if path.stem == "test_stateful":
            continue  # its machine runs below, once per store
        module = importlib.import_module(f"tests.ledger.{path.stem}")
        topic = path.stem.removeprefix("test_")
        for name, value in vars(module).items():
            if _is_fixture(value):
                yield name, value
            elif name.startswith("test_") and callable(value) and _uses_book(value):
                yield f"test_{topic}__{name.removeprefix('test_')}", value
            elif name.startswith("Test") and inspect.isclass(value) and _uses_book(value):
                yield f"Test{topic.title().replace('_', '')}{name.removeprefix('Test')}", value


globals().update(_borrow())


# -- the state machine -----------------------------------------------------------------


def _examples(default: int) -> int:
    """Fewer examples than the memory machine runs (a database per example costs), unless
    ``GIFTLEDGER_STATEFUL_EXAMPLES`` asks for a number."""
    return int(os.environ.get("GIFTLEDGER_STATEFUL_EXAMPLES", default))


def test_sqlite_ledger_matches_reference_model_after_every_step(tmp_path: Path) -> None:
    # The machine tests the ledger's semantics on SQLite, not durability: a file in
    # shared memory spares it an fsync per commit (test_crash_sqlite.py covers disks).
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as where:
        counter = itertools.count()
        machine = make_ledger_machine(
            lambda clock: gl.Ledger.open(f"sqlite:///{where}/m{next(counter)}.db", clock=clock)
        )
        run_state_machine_as_test(machine, settings=machine_settings(max_examples=_examples(50)))


@pytest.mark.postgres
def test_postgres_ledger_matches_reference_model_after_every_step(
    postgres_server: tuple[str, list[str]],
) -> None:
    admin, schemas = postgres_server  # the schemas listed there are dropped at the end
    base = f"gl_machine_{uuid.uuid4().hex[:12]}"

    def factory(clock: gl.ManualClock) -> gl.Ledger:
        schemas.append(f"{base}_{len(schemas)}")
        return gl.Ledger.open(_with_schema(admin, schemas[-1]), clock=clock)

    run_state_machine_as_test(
        make_ledger_machine(factory), settings=machine_settings(max_examples=_examples(10))
    )
