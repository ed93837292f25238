"""giftledger beside a bare baseline, the floor, raw drivers and beancount, on one workload.

In one run, every contender gets the same seeded gift-economy workload
(``_workload.py``: purchases, gifts and conversions of a TikTok LIVE-like economy,
1,000 viewers, 100 creators; a seed gives the same transactions everywhere), each
in its own fresh process, so its peak RSS is its own. The contenders:

- ``baseline``: a dict of ints making the ledger's checks (accounts exist,
  amounts positive ints, units match, balanced per unit, wallets never below
  zero) and keeping nothing else (``_baseline.py``): the speed of "just the
  arithmetic" in Python;
- ``floor``: ``ledger_floor.py``'s floor ledger (``_floor.py``): the least a
  Python ledger keeping giftledger's records (time, SHA-256 chain, entry record,
  journal, history rows, totals) must do;
- ``giftledger memory``: ``Ledger.post`` on the memory store, one call per
  transaction, ``gl.Posting`` values built from the workload's plain tuples;
- ``chain memory``: the same events through the real chain on the memory store
  (``GiftEconomy`` under the ``tiktok-live`` preset: ``buy_coins`` on the web
  channel, ``send_gift``, ``convert_diamonds``), which writes richer entries
  (coin lots, deferred revenue released per gift, what the creator is owed);
  its wallets, Diamonds, creators' cash, supplies, store and store fees must
  come out as the core's, so its row is checked on those accounts;
- ``giftledger SQLite`` and ``raw sqlite3``: ``Ledger.post_many`` 1,000 per call
  on a new file, and sqlite3 alone inserting a journal row (with a SHA-256 hash),
  the posting rows and the balance updates, 1,000 transactions per commit, WAL
  mode and ``synchronous=FULL`` as the store;
- ``giftledger PostgreSQL`` and ``raw psycopg``: the same against the server at
  ``--url`` (default ``$GIFTLEDGER_TEST_POSTGRES_URL``, else the local test
  server), each in a fresh schema, dropped afterwards; skipped with a note when
  psycopg is missing or the server does not answer;
- ``beancount``: the same transactions written as a beancount file (not timed),
  then ``beancount.loader.load_file`` (cache off) and
  ``beancount.core.realization.realize`` timed: parsing, booking, validation and
  every account's balance; skipped with a note when beancount 3 is missing
  (``pip install 'giftledger[test]'``). beancount enforces no balance rules.

Every contender's final balances (debit-positive minor units, every account) are
compared with the balances summed straight from the workload's postings, in the
parent: a row whose books differ says so and the script exits 1, so a fast but
wrong contender cannot look good.

Figures per size: transactions/s over the transactions alone (account opening and
file writing not timed), in wall time and in the process's CPU time, each with
its ratio to the baseline's (on a shared machine CPU time is the steadier for the
contenders that work in-process; the databases' wall time holds their fsyncs and
server, which their CPU time leaves out); peak RSS of
the contender's process (``ru_maxrss``) and its ratio to the baseline's; what the
run added to the process's peak (after imports, the workload and the accounts),
also per transaction. The database stores run at the sizes up to ``--db-max``
(default 100,000; a 1M load on PostgreSQL takes minutes); the memory contenders
and beancount at every size. PostgreSQL's own memory is not in any row.

Run: ``python benchmarks/compare.py [--sizes 10000,100000,1000000] [--quick]
[--seed S] [--db-max N] [--only NAME,...] [--url URL]`` (``--quick``: 10,000
only; ``--transactions N``, as ``run.py`` passes it, is ``--sizes N``). Nothing
here asserts on time; ``tests/test_benchmarks_smoke.py`` runs it at a small size.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the workers import their neighbours
    sys.path.insert(0, str(HERE))

import _workload as wl  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
DB_MAX = 100_000
BATCH = 1_000
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


class Contender(NamedTuple):
    name: str  # for --only and the worker
    label: str  # in the table
    needs: str | None  # the module it cannot run without
    database: bool  # capped by --db-max
    unchecked: tuple[str, ...] = ()  # accounts the contender keeps differently


CONTENDERS = (
    Contender("baseline", "baseline: dict of int", None, False),
    Contender("floor", "floor: ledger_floor.py", None, False),
    Contender("memory", "giftledger memory: post", None, False),
    Contender("chain", "giftledger chain: GiftEconomy", None, False, (wl.DEFERRED, wl.CREATOR_PAY)),
    Contender("sqlite", f"giftledger SQLite: post_many({BATCH:,})", None, True),
    Contender("raw-sqlite", f"raw sqlite3: {BATCH:,} per commit", None, True),
    Contender("postgres", f"giftledger PostgreSQL: post_many({BATCH:,})", "psycopg", True),
    Contender("raw-psycopg", f"raw psycopg: {BATCH:,} per commit", "psycopg", True),
    Contender("beancount", "beancount 3: load_file + realize", "beancount", False),
)
BY_NAME = {c.name: c for c in CONTENDERS}


# -- the workers: each runs in its own process --------------------------------------------


class Outcome(NamedTuple):
    balances: dict[str, int]  # debit-positive minor units
    note: str = ""


# A contender sets up (imports, accounts, files), yields, runs the n transactions,
# yields again, and returns its final balances: the worker times what lies between.
Run = Generator[None, None, Outcome]


def _peak_kb() -> int | None:
    """Peak RSS of this process so far, in KiB.

    On Linux ``VmHWM`` of ``/proc/self/status``, which starts afresh at ``exec``;
    ``ru_maxrss`` would carry the parent's peak over into the child.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS counts bytes


def run_baseline(w: wl.Workload, url: str | None) -> Run:
    from _baseline import Baseline

    base = Baseline()
    for name, unit, debit_normal, floor in wl.accounts():
        base.open(name, unit, 1 if debit_normal else -1, floor)
    post = base.post
    yield  # set up: the clock starts
    for ps in wl.each(w):
        post(ps)
    yield  # done: the clock stops
    return Outcome(dict(base.net))


def run_floor(w: wl.Workload, url: str | None) -> Run:
    import _floor

    book = _floor.FloorLedger()
    for name, unit, debit_normal, floor in wl.accounts():
        book.open(name, unit, debit_normal, floor)
    post = book.post
    yield  # set up: the clock starts
    for ps in wl.each(w):
        post(ps)
    yield  # done: the clock stops
    how = "compiled" if not _floor.__file__.endswith(".py") else "interpreted"
    return Outcome({n: s.net for n, s in book.states.items()}, f"floor {how}")


def _gl_open(book: Any) -> None:
    import giftledger as gl

    for name, unit, debit_normal, floor in wl.accounts():
        rule = gl.BalanceRule.unrestricted() if floor is None else None
        book.open_account(name, unit, normal="debit" if debit_normal else "credit", rule=rule)


def _gl_balances(book: Any, names: Sequence[str] | None = None) -> dict[str, int]:
    import giftledger as gl

    normal = {a.name: a.normal for a in book.accounts()}
    out = {}
    for name, money in book.balances().items():
        if names is not None and name not in names:
            continue
        minor = gl.to_minor(money, str(money.currency))
        out[name] = minor if normal[name] is gl.Side.DEBIT else -minor
    return out


def _gl_units() -> None:
    import giftledger as gl

    gl.register_unit("COIN", 0, singular="coin")
    gl.register_unit("DIAMOND", 0, singular="diamond")


def _gl_batches(w: wl.Workload) -> Iterator[list[list[Any]]]:
    import giftledger as gl

    posting, debit, credit = gl.Posting, gl.Side.DEBIT, gl.Side.CREDIT
    for first in range(0, len(w), BATCH):
        yield [
            [posting(a, debit if d else credit, m, u) for a, d, m, u in ps]
            for ps in wl.each(w, first, min(first + BATCH, len(w)))
        ]


def _gl_post_many(book: Any, w: wl.Workload) -> Run:
    """The SQLite and PostgreSQL contenders' run on an open store: ``post_many`` per batch."""
    _gl_open(book)
    post_many = book.post_many
    yield  # set up: the clock starts
    for batch in _gl_batches(w):
        post_many(batch)
    yield  # done: the clock stops
    return Outcome(_gl_balances(book))


def run_memory(w: wl.Workload, url: str | None) -> Run:
    import giftledger as gl

    _gl_units()
    book = gl.Ledger()
    _gl_open(book)
    post, posting, debit, credit = book.post, gl.Posting, gl.Side.DEBIT, gl.Side.CREDIT
    yield  # set up: the clock starts
    for ps in wl.each(w):
        post([posting(a, debit if d else credit, m, u) for a, d, m, u in ps])
    yield  # done: the clock stops
    return Outcome(_gl_balances(book))


def run_chain(w: wl.Workload, url: str | None) -> Run:
    from datetime import timedelta

    import giftledger as gl

    econ = gl.presets.load("tiktok-live")
    book = gl.Ledger(clock=gl.ManualClock(econ.latest.effective_from + timedelta(days=1)))
    app = gl.GiftEconomy(book, econ)
    for i in range(wl.CREATORS):
        app.open_creator(wl.creator(i), region="US")
    for i in range(wl.VIEWERS):
        app.open_viewer(wl.viewer(i), region="US")
    first = book.head[0] + 1
    viewers = [wl.viewer(i) for i in range(wl.VIEWERS)]
    creators = [wl.creator(i) for i in range(wl.CREATORS)]
    gifts = [name for name, _, _ in wl.GIFTS]
    packs = [coins for coins, _, _ in wl.PACKS]
    buy, send, convert = app.buy_coins, app.send_gift, app.convert_diamonds
    kind, party, other, size = w.kind, w.party, w.other, w.size
    yield  # set up: the clock starts
    for i in range(len(kind)):
        k = kind[i]
        if k == wl.GIFT:
            send(viewers[party[i]], creators[other[i]], gifts[size[i]])
        elif k == wl.PURCHASE:
            buy(viewers[party[i]], pack=packs[other[i]], channel="web")
        else:
            convert(creators[party[i]], size[i])
    yield  # done: the clock stops
    entries = book.head[0] + 1 - first
    checked = [n for n, *_ in wl.accounts() if n not in BY_NAME["chain"].unchecked]
    return Outcome(_gl_balances(book, checked), f"{entries:,} entries written")


def run_sqlite(w: wl.Workload, url: str | None) -> Run:
    import giftledger as gl

    _gl_units()
    with (
        tempfile.TemporaryDirectory() as tmp,
        gl.Ledger.open(f"sqlite:///{tmp}/bench.db") as book,
    ):
        outcome = yield from _gl_post_many(book, w)
    return outcome


_RAW_SCHEMA = """
CREATE TABLE journal (id INTEGER PRIMARY KEY, effective_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE postings (tx_id INTEGER NOT NULL, idx INTEGER NOT NULL, account TEXT NOT NULL,
    side TEXT NOT NULL, minor INTEGER NOT NULL, unit TEXT NOT NULL,
    PRIMARY KEY (tx_id, idx));
CREATE TABLE balances (name TEXT PRIMARY KEY, net INTEGER NOT NULL);
"""


def _raw_batches(w: wl.Workload) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
    """Per batch: journal rows (hash-chained), posting rows, balance updates."""
    import hashlib

    prev, i = "0" * 64, 0
    for first in range(0, len(w), BATCH):
        txs: list[Any] = []
        rows: list[Any] = []
        deltas: list[Any] = []
        for ps in wl.each(w, first, min(first + BATCH, len(w))):
            i += 1
            now = time.time_ns() // 1000
            digest = hashlib.sha256(f"{prev}|{i}".encode()).hexdigest()
            txs.append((i, now, now, prev, digest))
            prev = digest
            for k, (a, d, m, u) in enumerate(ps):
                rows.append((i, k, a, "debit" if d else "credit", m, u))
                deltas.append((m if d else -m, a))
        yield txs, rows, deltas


def run_raw_sqlite(w: wl.Workload, url: str | None) -> Run:
    import sqlite3

    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(f"{tmp}/raw.db", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.executescript(_RAW_SCHEMA)
            db.execute("BEGIN")
            db.executemany("INSERT INTO balances VALUES (?, 0)", [(n,) for n, *_ in wl.accounts()])
            db.execute("COMMIT")
            yield  # set up: the clock starts
            for txs, rows, deltas in _raw_batches(w):
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT INTO journal VALUES (?, ?, ?, ?, ?)", txs)
                db.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?)", rows)
                db.executemany("UPDATE balances SET net = net + ? WHERE name = ?", deltas)
                db.execute("COMMIT")
            yield  # done: the clock stops
            balances = dict(db.execute("SELECT name, net FROM balances"))
        finally:
            db.close()
    return Outcome(balances)


@contextmanager
def _pg_schema(url: str) -> Iterator[str]:
    import psycopg

    schema = f"gl_bench_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run_postgres(w: wl.Workload, url: str | None) -> Run:
    import giftledger as gl

    assert url is not None
    _gl_units()
    with _pg_schema(url) as schema:
        sep = "&" if "?" in url else "?"
        with gl.Ledger.open(f"{url}{sep}schema={schema}") as book:
            outcome = yield from _gl_post_many(book, w)
    return outcome


def run_raw_psycopg(w: wl.Workload, url: str | None) -> Run:
    import psycopg

    assert url is not None
    with _pg_schema(url) as schema, psycopg.connect(url) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path = "{schema}"')
        conn.execute(_RAW_SCHEMA.replace("INTEGER", "bigint"))
        sync = conn.execute("SHOW synchronous_commit").fetchone()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO balances VALUES (%s, 0)", [(n,) for n, *_ in wl.accounts()]
            )
        conn.commit()
        yield  # set up: the clock starts
        for txs, rows, deltas in _raw_batches(w):
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO journal VALUES (%s, %s, %s, %s, %s)", txs)
                cur.executemany("INSERT INTO postings VALUES (%s, %s, %s, %s, %s, %s)", rows)
                cur.executemany("UPDATE balances SET net = net + %s WHERE name = %s", deltas)
            conn.commit()
        yield  # done: the clock stops
        balances = dict(conn.execute("SELECT name, net FROM balances").fetchall())
    return Outcome(balances, f"synchronous_commit={sync[0] if sync else '?'}")


def beancount_names() -> dict[str, str]:
    """The workload's account names as beancount accounts (``Assets:Stores:Web``, …)."""
    roots = {"assets", "liabilities", "equity", "income", "expenses"}
    out = {}
    for name, _, debit_normal, _ in wl.accounts():
        parts = name.split(":")
        if parts[0] not in roots:
            parts.insert(0, "assets" if debit_normal else "liabilities")
        out[name] = ":".join(p[:1].upper() + p[1:] for p in parts)
    return out


def _amount(minor: int, unit: str) -> str:
    if unit != "USD":
        return str(minor)
    sign, minor = ("-", -minor) if minor < 0 else ("", minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def write_beancount(w: wl.Workload, path: str) -> None:
    """The workload as a beancount file: 1,000 transactions a day from 2024-01-02."""
    from datetime import date, timedelta

    names = beancount_names()
    day0 = date(2024, 1, 2)
    with open(path, "w", encoding="utf-8") as f:
        f.write('option "operating_currency" "USD"\n')
        for unit in ("COIN", "DIAMOND"):
            f.write(f"2024-01-01 commodity {unit}\n")
        for name, unit, _, _ in wl.accounts():
            f.write(f"2024-01-01 open {names[name]} {unit}\n")
        titles = ("purchase", "gift", "conversion")
        for i, ps in enumerate(wl.each(w)):
            day = (day0 + timedelta(days=i // 1_000)).isoformat()
            lines = [f'\n{day} * "{titles[w.kind[i]]}"']
            for a, d, m, u in ps:
                lines.append(f"  {names[a]}  {_amount(m if d else -m, u)} {u}")
            f.write("\n".join(lines) + "\n")


def run_beancount(w: wl.Workload, url: str | None) -> Run:
    from beancount import loader
    from beancount.core import realization

    loader.initialize(use_cache=False)
    back = {v: k for k, v in beancount_names().items()}
    units = {name: unit for name, unit, *_ in wl.accounts()}
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.beancount"
        began = time.perf_counter()
        write_beancount(w, path)
        written = time.perf_counter() - began
        size = os.path.getsize(path)
        yield  # set up: the clock starts
        entries, errors, _ = loader.load_file(path)
        root = realization.realize(entries)
        yield  # done: the clock stops
    if errors:
        raise SystemExit(f"beancount reported {len(errors)} error(s), the first: {errors[0]}")
    balances = dict.fromkeys(back.values(), 0)
    for real in realization.iter_children(root):
        if real.account not in back:
            continue
        name = back[real.account]
        for pos in real.balance:
            if pos.units.currency != units[name]:
                raise SystemExit(f"beancount: {pos.units} in {real.account}")
            scaled = pos.units.number.scaleb(2 if units[name] == "USD" else 0)
            if scaled != scaled.to_integral_value():
                raise SystemExit(f"beancount: {pos.units} in {real.account} is not exact")
            balances[name] += int(scaled)
    note = f"file {size / 1e6:,.1f} MB, written in {written:.1f} s (not timed)"
    return Outcome(balances, note)


RUNNERS: dict[str, Callable[[wl.Workload, str | None], Run]] = {
    "baseline": run_baseline,
    "floor": run_floor,
    "memory": run_memory,
    "chain": run_chain,
    "sqlite": run_sqlite,
    "raw-sqlite": run_raw_sqlite,
    "postgres": run_postgres,
    "raw-psycopg": run_raw_psycopg,
    "beancount": run_beancount,
}


def worker(name: str, n: int, seed: int, url: str | None) -> None:
    """Run one contender on the workload and print one JSON line."""
    w = wl.generate(n, seed)
    run = RUNNERS[name](w, url)
    next(run)  # set up
    gc.collect()
    before = _peak_kb()
    wall, cpu = time.perf_counter(), time.process_time()
    next(run)  # the n transactions
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _peak_kb()
    try:
        next(run)
    except StopIteration as done:
        out: Outcome = done.value
    else:
        raise RuntimeError(f"{name} yielded three times")
    print(
        json.dumps(
            {
                "seconds": wall,
                "cpu": cpu,
                "balances": out.balances,
                "note": out.note,
                "peak_kb": peak,
                "added_kb": None if peak is None or before is None else peak - before,
            }
        )
    )


# -- the parent: one process per contender and size ----------------------------------------


class Row(NamedTuple):
    contender: Contender
    n: int
    seconds: float | None = None  # wall time of the n transactions; None: skipped or failed
    cpu: float | None = None  # this process's CPU time of the same
    peak_kb: int | None = None
    added_kb: int | None = None
    balances: dict[str, int] | None = None
    note: str = ""
    mismatch: str = ""  # "" when the books agree with the workload
    failed: bool = False

    @property
    def ran(self) -> bool:
        return self.seconds is not None

    @property
    def rate(self) -> float:
        assert self.seconds is not None
        return self.n / self.seconds if self.seconds > 0 else float("inf")

    @property
    def cpu_rate(self) -> float:
        assert self.cpu is not None
        return self.n / self.cpu if self.cpu > 0 else float("inf")


def check_balances(
    expected: dict[str, int], got: dict[str, int], unchecked: Sequence[str] = ()
) -> str:
    """``""`` when ``got`` holds every account of ``expected`` (but ``unchecked``) at its
    balance, else what differs."""
    want = {k: v for k, v in expected.items() if k not in unchecked}
    have = {k: v for k, v in got.items() if k not in unchecked}
    missing = sorted(want.keys() - have.keys())
    extra = sorted(have.keys() - want.keys())
    wrong = sorted(k for k in want.keys() & have.keys() if want[k] != have[k])
    problems = []
    if missing:
        problems.append(f"{len(missing)} account(s) missing, e.g. {missing[0]}")
    if extra:
        problems.append(f"{len(extra)} unexpected account(s), e.g. {extra[0]}")
    if wrong:
        k = wrong[0]
        problems.append(f"{len(wrong)} balance(s) differ, e.g. {k}: {have[k]} != {want[k]}")
    return "; ".join(problems)


def postgres_url(url: str | None) -> tuple[str | None, str]:
    """The server to use, or None and why not."""
    if importlib.util.find_spec("psycopg") is None:
        return None, "psycopg is not installed (pip install 'giftledger[postgres]')"
    url = url or os.environ.get("GIFTLEDGER_TEST_POSTGRES_URL") or DEFAULT_PG
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"PostgreSQL at {url} is not reachable ({first}); set --url"
    return url, ""


def _spawn(c: Contender, n: int, seed: int, url: str | None) -> Row:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", c.name]
    cmd += ["--sizes", str(n), "--seed", str(seed)]
    if url is not None:
        cmd += ["--url", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return Row(c, n, note=f"FAILED: {tail}", failed=True)
    data = json.loads(lines[-1])
    return Row(
        c,
        n,
        data["seconds"],
        data["cpu"],
        data["peak_kb"],
        data["added_kb"],
        data["balances"],
        data["note"],
    )


def run(
    sizes: Sequence[int],
    *,
    seed: int = 1,
    only: Sequence[str] | None = None,
    db_max: int = DB_MAX,
    url: str | None = None,
    out: Callable[[str], None] = print,
) -> list[Row]:
    """Run the contenders at each size, print a table per size, return the rows."""
    chosen = [c for c in CONTENDERS if only is None or c.name in only]
    pg_url, pg_why = (None, "")
    if any(c.name in ("postgres", "raw-psycopg") for c in chosen):
        pg_url, pg_why = postgres_url(url)
    rows: list[Row] = []
    for n in sizes:
        w = wl.generate(n, seed)
        expected = wl.expected(w)
        counts = ", ".join(f"{v:,} {k}" for k, v in w.counts().items())
        del w
        out(
            f"\nN = {n:,} transactions (seed {seed}: {counts}; {wl.VIEWERS:,} viewers, "
            f"{wl.CREATORS:,} creators)"
        )
        here: list[Row] = []
        for c in chosen:
            if c.needs is not None and importlib.util.find_spec(c.needs) is None:
                row = Row(c, n, note=f"skipped: {c.needs} is not installed")
            elif c.needs == "psycopg" and pg_url is None:
                row = Row(c, n, note=f"skipped: {pg_why}")
            elif c.database and n > db_max:
                row = Row(c, n, note=f"skipped: N above --db-max {db_max:,}")
            else:
                row = _spawn(c, n, seed, pg_url if c.needs == "psycopg" else None)
                if row.balances is not None:
                    row = row._replace(mismatch=check_balances(expected, row.balances, c.unchecked))
            here.append(row)
        _table(here, out)
        rows += here
    return rows


def _mb(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:,.0f}"


def _ratio(a: float, b: float | None, digits: int = 3) -> str:
    return "" if not b else f"{a / b:.{digits}f}"


def _table(rows: list[Row], out: Callable[[str], None]) -> None:
    base = next((r for r in rows if r.contender.name == "baseline" and r.ran), None)
    head = (
        f"  {'contender':<41} {'tx/s':>9} {'x base':>7} {'CPU tx/s':>9} {'x base':>7} "
        f"{'peak MB':>8} {'x base':>7} {'added MB':>9} {'B/tx':>6}  books"
    )
    out(head)
    out("  " + "-" * (len(head) - 2))
    notes = []
    for r in rows:
        label = r.contender.label
        if not r.ran:
            out(f"  {label:<41} {'-':>9}  {r.note}")
            continue
        wall = _ratio(r.rate, base.rate if base else None)
        cpu = _ratio(r.cpu_rate, base.cpu_rate if base else None)
        mem = _ratio(r.peak_kb or 0, base.peak_kb if base else None, 2)
        per = "" if r.added_kb is None else f"{r.added_kb * 1024 / r.n:,.0f}"
        books = "equal" if not r.mismatch else f"DIFFER: {r.mismatch}"
        if r.contender.unchecked and not r.mismatch:
            books += " (shared accounts)"
        out(
            f"  {label:<41} {r.rate:>9,.0f} {wall:>7} {r.cpu_rate:>9,.0f} {cpu:>7} "
            f"{_mb(r.peak_kb):>8} {mem:>7} {_mb(r.added_kb):>9} {per:>6}  {books}"
        )
        if r.note:
            notes.append(f"{r.contender.name}: {r.note}")
    by = {r.contender.name: r for r in rows if r.ran}
    pairs = [("chain", "memory"), ("memory", "floor"), ("memory", "beancount")]
    pairs += [("sqlite", "raw-sqlite"), ("postgres", "raw-psycopg")]
    for a, b in pairs:
        if a in by and b in by:
            notes.append(
                f"{a} / {b}: {by[a].rate / by[b].rate:.2f} wall, "
                f"{by[a].cpu_rate / by[b].cpu_rate:.2f} CPU"
            )
    out("    (CPU: this process only; a database's server and disk waits are not in it)")
    for note in notes:
        out(f"    {note}")


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load}"
    )


def _sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes {text!r} must be positive ints, comma-separated")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=list(SIZES), metavar="N,N,...")
    parser.add_argument("--transactions", "-n", type=_sizes, default=None, metavar="N")
    parser.add_argument("--quick", action="store_true", help="10,000 transactions only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db-max", type=int, default=DB_MAX, metavar="N")
    parser.add_argument("--only", default=None, metavar="NAME,...", help=", ".join(BY_NAME))
    parser.add_argument("--url", default=None, help="PostgreSQL server")
    parser.add_argument("--worker", choices=list(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = args.transactions or ([10_000] if args.quick else args.sizes)
    if args.worker:
        worker(args.worker, sizes[0], args.seed, args.url)
        return 0
    only = None
    if args.only:
        only = [name.strip() for name in args.only.split(",")]
        unknown = [name for name in only if name not in BY_NAME]
        if unknown:
            parser.error(
                f"unknown contender(s) {', '.join(unknown)}; choose from {', '.join(BY_NAME)}"
            )
    command = " ".join(["python benchmarks/compare.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"{machine()}\ncommand: {command}")
    rows = run(sizes, seed=args.seed, only=only, db_max=args.db_max, url=args.url)
    bad = [r for r in rows if r.failed or r.mismatch]
    if bad:
        print(f"\n{len(bad)} row(s) failed or disagree with the workload's books", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
