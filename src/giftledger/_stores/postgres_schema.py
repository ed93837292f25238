"""The PostgreSQL store's schema: every version's DDL and the steps between them.

Version 1 kept each account's totals on its row in ``gl_accounts`` and the unit
totals in BIGINT. Version 2 adds:

- ``gl_transactions.hash_version``: the chain formula of each entry (1 for the
  entries of earlier releases, 2 for new ones; see ``giftledger._ledger.hashing``);
- ``gl_balances``: the totals of *unrestricted* accounts (no floor: no
  ``min_balance``, or a trading account), as delta rows keyed by
  ``(account, slot)`` with one slot per server backend (``pg_backend_pid() % 1024``)
  and summed on read, so writers crediting or debiting the coin supply, revenue or
  trading accounts never wait for each other's row; accounts with a floor keep
  their totals on their ``gl_accounts`` row, locked ``FOR UPDATE`` by a writer
  that may debit them;
- ``gl_totals`` in ``numeric`` (a unit's turnover passes 2^63 - 1 minor units
  long before any one amount does), slotted as ``gl_balances``;
- ``gl_account_states``: the view every read of an account goes through (record
  plus its slots);
- ``gl_try_lock(ns, id)``: an advisory lock taken without waiting (SQLSTATE
  55P03 when taken), for the locks a writer needs after the chain's head.

Version 3 adds ``gl_transactions_key``, a partial index of the entries by the
idempotency key they carry; lets ``hash_version`` be 3 (new entries are chained by
formula 3, which hashes a keyed entry with its idempotency record); and adds
``gl_open(names)`` (lock a write's accounts with a floor in name order and read
their states, one key lookup each) and ``gl_link(...)``, the chain's head step done
by the server: it takes the head's lock, reads the head, numbers the entries it is
given after it, links each (``sha256(prev | id | content hash)``, the link of every
formula whose content hash is computed by the client: 2 and 3), inserts the journal
rows, their postings and the keys' records, and returns the ids and hashes. A write
that needs nothing from the chain before it commits (``Ledger.post``) sends it with
its COMMIT, so the head is held for server microseconds, not across the client.

Version 4 lets ``gl_link`` do a post's whole write in one round trip (its
``blind`` argument): a client that knows the accounts' records from an earlier
write reads nothing first; ``gl_link`` locks the accounts with a floor in name
order, checks their balance rules, computes every running balance, and refuses
with SQLSTATE ``GLRUN`` what the ledger must decide itself (a rule that would
break, an account closed or unknown, holds past their expiry): the client then
runs the write again, reading its accounts first. It replaces ``gl_open`` too
(both plan their statements once per session) and adds ``gl_ledger()``, the
ledger's advisory lock id (the OID of its journal table).

Version 5 gives ``gl_link`` the accounts the client knows as trading accounts
(``t_name``), checked with the rest under the head, so a ``convert`` whose accounts
the store knows needs no read first; ``gl_link`` with version 4's arguments stays,
calling the new one with ``t_name`` NULL (no check), for writers of the release
before that run while a newer one migrates the database.

Version 6 indexes the holds by account and id. Version 7 gives ``gl_link`` a last
argument, ``record_before`` (default NULL): the time the entries it links must be recorded
before, refused with SQLSTATE ``GLHED`` (a gift priced by rules that change then, which
the head would date past the change: the client runs it again holding the head).

Version 8 bounds the slot rows. A backend's slot was ``pg_backend_pid() % 1024``, so
every new connection over the months (pools recycling connections, servers
restarting) left a row for each account without a floor and each unit in a slot
not used before, up to 2,048 of each: every post summed them again (the
running-balance correction under the head) and so did every read of a supply's
balance. Now a store's connection claims the lowest free slot of its ledger for as
long as it lives (``gl_claim_slot()``: a session advisory lock per slot), and its
writes use it (``gl_slot()``; the backend's pid modulo 1024 for a session that
claimed none: a writer of the release before, or one past 1,024 connections at
once). An account then has at most two slot rows (one of them for writes holding the
head) per connection its stores ever held open at once, idle ones included, and no
two sessions of this release share one (but for a schema dropped and created again
under running stores: their connections keep the slot they claimed for the ledger
before, which a new connection may claim too; sharing a slot is safe, as below). The
step folds the rows written so far into slot 0 of each account and unit (their sums,
which are the balances: nothing else changes), under an exclusive lock of both tables
(writers wait for it; one of the release before that is waiting for the head while it
holds a slot row makes a writer holding the head wait behind the migration until the
server's deadlock check reorders them, within ``deadlock_timeout``), and gives
``gl_link`` the claimed slot.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_SCHEMA_V1 = (
    """
    CREATE TABLE gl_meta (
        key   text PRIMARY KEY,
        value text NOT NULL
    )
    """,
    """
    CREATE TABLE gl_accounts (
        name            text COLLATE "C" PRIMARY KEY,
        unit            text NOT NULL,
        normal          text NOT NULL CHECK (normal IN ('debit', 'credit')),
        min_balance     bigint,
        closed          boolean NOT NULL,
        trading         boolean NOT NULL,
        metadata        json NOT NULL,
        net             bigint NOT NULL DEFAULT 0,
        pending_debits  bigint NOT NULL DEFAULT 0,
        pending_credits bigint NOT NULL DEFAULT 0,
        next_expiry     bigint
    )
    """,
    """
    CREATE TABLE gl_transactions (
        id           bigint PRIMARY KEY CHECK (id > 0),
        kind         text NOT NULL,
        effective_at bigint NOT NULL,
        recorded_at  bigint NOT NULL,
        key          text,
        memo         text NOT NULL,
        metadata     json NOT NULL,
        reverses     bigint,
        hold_id      bigint,
        expires_at   bigint,
        rates        json NOT NULL,
        prev_hash    text NOT NULL,
        hash         text NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX gl_transactions_reverses ON gl_transactions (reverses) "
    "WHERE reverses IS NOT NULL",
    """
    CREATE TABLE gl_postings (
        tx_id     bigint NOT NULL REFERENCES gl_transactions (id),
        idx       integer NOT NULL,
        account   text COLLATE "C" NOT NULL,
        side      text NOT NULL CHECK (side IN ('debit', 'credit')),
        minor     bigint NOT NULL CHECK (minor > 0),
        unit      text NOT NULL,
        net_after bigint,
        PRIMARY KEY (tx_id, idx)
    )
    """,
    "CREATE INDEX gl_postings_history ON gl_postings (account, tx_id, idx) "
    "WHERE net_after IS NOT NULL",
    """
    CREATE TABLE gl_holds (
        id           bigint PRIMARY KEY,
        debit        text COLLATE "C" NOT NULL,
        credit       text COLLATE "C" NOT NULL,
        minor        bigint NOT NULL CHECK (minor > 0),
        unit         text NOT NULL,
        expires_at   bigint,
        status       text NOT NULL,
        posted_minor bigint NOT NULL,
        resolved_by  bigint
    )
    """,
    "CREATE INDEX gl_holds_pending_debit ON gl_holds (debit) WHERE status = 'pending'",
    "CREATE INDEX gl_holds_pending_credit ON gl_holds (credit) WHERE status = 'pending'",
    """
    CREATE TABLE gl_keys (
        key            text PRIMARY KEY,
        fingerprint    text NOT NULL,
        transaction_id bigint,
        result         text,
        error_type     text,
        error_message  text
    )
    """,
    """
    CREATE TABLE gl_totals (
        unit    text PRIMARY KEY,
        debits  bigint NOT NULL,
        credits bigint NOT NULL
    )
    """,
    # Append-only, enforced by the database. Totals and a hold's status change by
    # design; everything a hash or a reference depends on does not.
    """
    CREATE FUNCTION gl_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'giftledger: % on % is refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'restrict_violation',
                  HINT = 'the ledger is append-only; correct it with a reversal';
    END
    $$
    """,
    *(
        statement
        for table in ("gl_transactions", "gl_postings", "gl_keys")
        for statement in (
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION gl_refuse('the journal is append-only')",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION gl_refuse('the journal is append-only')",
        )
    ),
    *(
        statement
        for table in ("gl_accounts", "gl_holds")
        for statement in (
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION gl_refuse('rows are never deleted')",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION gl_refuse('rows are never deleted')",
        )
    ),
    """
    CREATE TRIGGER gl_accounts_fixed BEFORE UPDATE ON gl_accounts FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.unit IS DISTINCT FROM NEW.unit
          OR OLD.normal IS DISTINCT FROM NEW.normal
          OR OLD.min_balance IS DISTINCT FROM NEW.min_balance
          OR OLD.trading IS DISTINCT FROM NEW.trading
          OR OLD.metadata::text IS DISTINCT FROM NEW.metadata::text
          OR (OLD.closed AND NOT NEW.closed))
    EXECUTE FUNCTION gl_refuse('an account''s identity and rule never change, and a closed '
                               'account stays closed')
    """,
    """
    CREATE TRIGGER gl_holds_fixed BEFORE UPDATE ON gl_holds FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.debit IS DISTINCT FROM NEW.debit
          OR OLD.credit IS DISTINCT FROM NEW.credit OR OLD.minor IS DISTINCT FROM NEW.minor
          OR OLD.unit IS DISTINCT FROM NEW.unit
          OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.status <> 'pending')
    EXECUTE FUNCTION gl_refuse('a hold''s terms never change and it is settled once')
    """,
    "INSERT INTO gl_meta (key, value) VALUES ('schema_version', '1')",
)

#: Statements per step, from version ``i`` to ``i + 1``, run in one transaction; the
#: schema version this library writes is the number of steps. A new version appends
#: a step (``ALTER TABLE …``) and ends it by updating ``gl_meta.schema_version``.

_SCHEMA_V2 = (
    "ALTER TABLE gl_transactions ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 "
    "CHECK (hash_version IN (1, 2))",
    """
    CREATE TABLE gl_balances (
        account         text COLLATE "C" NOT NULL,
        slot            integer NOT NULL,
        net             bigint NOT NULL DEFAULT 0,
        pending_debits  bigint NOT NULL DEFAULT 0,
        pending_credits bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (account, slot)
    )
    """,
    # The totals of unrestricted accounts move to their slots (one slot each, 0).
    "INSERT INTO gl_balances (account, slot, net, pending_debits, pending_credits) "
    "SELECT name, 0, net, pending_debits, pending_credits FROM gl_accounts "
    "WHERE (min_balance IS NULL OR trading) "
    "AND (net <> 0 OR pending_debits <> 0 OR pending_credits <> 0)",
    "UPDATE gl_accounts SET net = 0, pending_debits = 0, pending_credits = 0 "
    "WHERE min_balance IS NULL OR trading",
    "ALTER TABLE gl_totals ALTER COLUMN debits TYPE numeric, "
    "ALTER COLUMN credits TYPE numeric, ADD COLUMN slot integer NOT NULL DEFAULT 0",
    "ALTER TABLE gl_totals DROP CONSTRAINT gl_totals_pkey",
    "ALTER TABLE gl_totals ADD PRIMARY KEY (unit, slot)",
    """
    CREATE VIEW gl_account_states AS
    SELECT a.name, a.unit, a.normal, a.min_balance, a.closed, a.trading, a.metadata,
           a.net + coalesce(s.net, 0) AS net,
           a.pending_debits + coalesce(s.pending_debits, 0) AS pending_debits,
           a.pending_credits + coalesce(s.pending_credits, 0) AS pending_credits,
           a.next_expiry
    FROM gl_accounts a LEFT JOIN LATERAL (
        SELECT sum(b.net)::bigint AS net, sum(b.pending_debits)::bigint AS pending_debits,
               sum(b.pending_credits)::bigint AS pending_credits
        FROM gl_balances b WHERE b.account = a.name
    ) s ON true
    """,
    """
    CREATE FUNCTION gl_try_lock(ns integer, id integer) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT pg_try_advisory_xact_lock(ns, id) THEN
            RAISE EXCEPTION 'giftledger: lock (%, %) is taken; the write runs again', ns, id
                USING ERRCODE = 'lock_not_available';
        END IF;
    END
    $$
    """,
    "CREATE TRIGGER gl_balances_no_delete BEFORE DELETE ON gl_balances "
    "FOR EACH ROW EXECUTE FUNCTION gl_refuse('rows are never deleted')",
    "CREATE TRIGGER gl_balances_no_truncate BEFORE TRUNCATE ON gl_balances "
    "FOR EACH STATEMENT EXECUTE FUNCTION gl_refuse('rows are never deleted')",
    "UPDATE gl_meta SET value = '2' WHERE key = 'schema_version'",
)

# The head step, server-side. Arguments: the first id the client numbered its
# entries from (its provisional id: the ids from it, one per entry, in the arrays
# below are these entries', shifted to the real numbering); the entries' columns, with each
# one's content text cut around its two times (``before``: up to the effective
# time; ``after``: from the end of the recorded time; ``follows``: the effective
# time is the recorded time, not given by the caller); their postings, with the
# running balance the client computed from the account totals it read; the
# unrestricted accounts of the postings with the net the client expects each to
# have once this write is applied (their totals are slot rows nobody locks, so
# the client's read may be behind: the difference, read here under the head,
# corrects their postings' running balances); the keys' records; the balance
# changes: of accounts with a floor (their rows, locked by the writer), of the
# others (this session's slots) and of the unit totals (its slots); ``blind``: the
# client read no account (a post in one round trip, schema 4): it computed the
# running balances from zero and sends every account of the postings for the
# correction, and the rows of accounts with a floor are locked and their balance
# rule checked here (a case for the ledger to decide raises GLRUN: the client
# runs the write again, reading its accounts); ``t_name``: the accounts of the
# postings the client knows as trading accounts (schema 5), checked with the rest;
# ``record_before`` (schema 7; NULL: none): the time the entries must be recorded
# before (a gift priced by rules that change then): one the head would record there
# raises GLHED, and the client runs the write again holding the head.
#
# recorded_at never goes backwards: an entry whose time (read by the client
# before it had the head) is before the head's takes the head's (and so does its
# effective time when it follows), as the ledger clamps its clock. Its content
# hash is therefore taken here, SHA-256 of ``before || effective || '|' ||
# recorded || after``, whatever the formula put in ``before`` and ``after``;
# the link is ``sha256(prev | id | content hash)``. Returns the shift of the
# ids, the head's hash, the hashes and the recorded times.
_GL_LINK = """
CREATE FUNCTION gl_link(
    first_id bigint,
    kinds text[], effective bigint[], recorded bigint[], keys text[], memos text[],
    metas json[], reverses bigint[], hold_ids bigint[], expires bigint[], rates json[],
    befores text[], afters text[], follows boolean[], versions smallint[],
    p_tx bigint[], p_idx integer[], p_account text[], p_side text[], p_minor bigint[],
    p_unit text[], p_net bigint[],
    b_account text[], b_net bigint[],
    k_key text[], k_fingerprint text[], k_tx bigint[], k_result text[],
    f_name text[], f_net bigint[], f_pd bigint[], f_pc bigint[],
    s_name text[], s_net bigint[], s_pd bigint[], s_pc bigint[],
    u_unit text[], u_debits numeric[], u_credits numeric[],
    blind boolean, t_name text[], record_before bigint DEFAULT NULL
) RETURNS TABLE (shift bigint, head text, hashes text[], times bigint[])
LANGUAGE plpgsql
-- Every statement below finds its rows by key: plan each once (a custom plan per call,
-- which the plan cache kept choosing for the array arguments, cost an eighth of a
-- post's server time).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    head_id bigint;
    head_hash text;
    head_time bigint;
    n integer := coalesce(array_length(kinds, 1), 0);
    out_hashes text[] := '{}';
    out_times bigint[] := '{}';
    out_effective bigint[] := '{}';
    prev text;
    rec bigint;
    eff bigint;
    d bigint;
    a gl_accounts;
    avail_before bigint;
    avail_after bigint;
BEGIN
    -- A client that read nothing did not look its keys up either: one with a record,
    -- or carried by an entry whose record is gone, is for the ledger to decide (the
    -- commit took the key's lock first: a concurrent first use waits for it, then
    -- finds its record here; gl_keys' unique key is the backstop).
    -- (One key at a time: a lookup by equality uses the index whatever the plan.)
    FOR i IN 1 .. CASE WHEN blind THEN coalesce(array_length(k_key, 1), 0) ELSE 0 END LOOP
        IF EXISTS (SELECT 1 FROM gl_keys k WHERE k.key = k_key[i])
                OR EXISTS (SELECT 1 FROM gl_transactions t WHERE t.key = k_key[i]) THEN
            RAISE EXCEPTION 'giftledger: a key of this write has an outcome; the write runs '
                'again' USING ERRCODE = 'GLRUN';
        END IF;
    END LOOP;
    -- The balance changes of accounts with a floor first, before the head (the one
    -- lock order: accounts, then the head), on the rows this writer locked (or locks
    -- here). One row a statement: plans that use the keys, whatever the tables'
    -- statistics.
    FOR i IN 1 .. coalesce(array_length(f_name, 1), 0) LOOP
        IF blind THEN
            -- The client read nothing (it knows the accounts' records, which never
            -- change but for closing): lock the row here, in name order, and check
            -- its balance rule as the ledger does. A case the ledger decides with
            -- more than this row (holds past their expiry) or that fails is run
            -- again by the client, reading its accounts first (GLRUN), so the
            -- ledger names the error itself.
            -- (The change is applied first, locking the row; a refusal rolls it back.)
            UPDATE gl_accounts g SET net = g.net + f_net[i],
                pending_debits = g.pending_debits + f_pd[i],
                pending_credits = g.pending_credits + f_pc[i]
            WHERE g.name = f_name[i] RETURNING g.* INTO a;
            IF NOT FOUND OR a.closed OR a.trading OR a.min_balance IS NULL
                    OR a.next_expiry <= recorded[1] THEN
                RAISE EXCEPTION 'giftledger: account % needs a closer look; the write runs '
                    'again', f_name[i] USING ERRCODE = 'GLRUN';
            END IF;
            IF a.normal = 'debit' THEN
                avail_after := a.net - a.pending_credits;
                avail_before := avail_after - f_net[i] + f_pc[i];
            ELSE
                avail_after := -a.net - a.pending_debits;
                avail_before := avail_after + f_net[i] + f_pd[i];
            END IF;
            IF avail_after < avail_before AND avail_after < a.min_balance THEN
                RAISE EXCEPTION 'giftledger: the balance rule of % would break; the write '
                    'runs again', f_name[i] USING ERRCODE = 'GLRUN';
            END IF;
        ELSE
            UPDATE gl_accounts SET net = net + f_net[i],
                pending_debits = pending_debits + f_pd[i],
                pending_credits = pending_credits + f_pc[i]
            WHERE name = f_name[i];
        END IF;
    END LOOP;
    -- The slot rows of the unrestricted accounts and the unit totals, before the
    -- head too: the session's slot, 0 to 1023 (gl_slot()). Writes that hold the head
    -- while they change slots (holds, guarded writes, batches) use 1024 to 2047, so
    -- no writer waits for a slot row while it holds the head: two sessions that share
    -- a slot row (one that claimed none and one whose slot is its pid modulo 1024)
    -- would otherwise deadlock.
    -- (One statement each: an upsert finds its row through its unique key.)
    INSERT INTO gl_balances AS b (account, slot, net, pending_debits, pending_credits)
    SELECT x.name, gl_slot(), x.net, x.pd, x.pc
    FROM unnest(s_name, s_net, s_pd, s_pc) AS x(name, net, pd, pc)
    ON CONFLICT (account, slot) DO UPDATE SET net = b.net + excluded.net,
        pending_debits = b.pending_debits + excluded.pending_debits,
        pending_credits = b.pending_credits + excluded.pending_credits;
    INSERT INTO gl_totals AS t (unit, slot, debits, credits)
    SELECT x.unit, gl_slot(), x.debits, x.credits
    FROM unnest(u_unit, u_debits, u_credits) AS x(unit, debits, credits)
    ON CONFLICT (unit, slot) DO UPDATE SET debits = t.debits + excluded.debits,
        credits = t.credits + excluded.credits;
    -- Waiting for the head means other writers are at it: then commit without
    -- waiting for the flush (the head is released at once) and let the client
    -- wait for it in an empty transaction (gl_flush); a lone writer commits plainly.
    IF pg_try_advisory_xact_lock(1735131137, gl_ledger()) THEN
        PERFORM set_config('giftledger.flush', 'off', false);
    ELSE
        PERFORM pg_advisory_xact_lock(1735131137, gl_ledger());
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM set_config('giftledger.flush', 'on', false);
    END IF;
    -- Only accounts with a floor were locked by gl_open (or above): another writer
    -- may have closed one of the others since it was read. Under the head (which
    -- closing takes too) that is settled: refuse, and the ledger runs the write
    -- again, reading its accounts, which then finds the account closed (or gone:
    -- a client that read nothing knows the accounts from an earlier write).
    -- A client that read nothing also checks here that each account is the one it
    -- knew: its unit, a floor exactly where it changed the account's row, and a
    -- trading account exactly where it knew one (``t_name``; NULL from a client of
    -- schema 4, which reads trading accounts first). (One index probe per posting:
    -- LIMIT keeps the planner from joining by a scan.)
    IF (SELECT count(*) FROM unnest(p_account, p_unit) AS n(name, unit)
            CROSS JOIN LATERAL (SELECT 1 FROM gl_accounts g WHERE g.name = n.name
                AND NOT g.closed AND g.unit = n.unit
                AND (NOT blind OR ((g.min_balance IS NOT NULL AND NOT g.trading)
                    = (n.name = ANY(f_name))
                    AND (t_name IS NULL OR g.trading = (n.name = ANY(t_name)))))
                LIMIT 1) AS x) < coalesce(array_length(p_account, 1), 0) THEN
        RAISE EXCEPTION 'giftledger: an account of this write was closed, or is not the '
            'one the client knew; the write runs again' USING ERRCODE = 'GLRUN';
    END IF;
    SELECT t.id, t.hash, t.recorded_at INTO head_id, head_hash, head_time
        FROM gl_transactions t ORDER BY t.id DESC LIMIT 1;
    IF NOT FOUND THEN
        head_id := 0;
        head_hash := repeat('0', 64);
    END IF;
    d := head_id + 1 - first_id;
    prev := head_hash;
    FOR i IN 1 .. n LOOP
        rec := greatest(recorded[i], head_time);
        -- An entry priced by rules that change at ``record_before`` is not dated
        -- there (a writer whose clock runs ahead committed meanwhile): the client runs
        -- it again holding the head, reading its time under it (NULL: no such time).
        IF rec >= record_before THEN
            RAISE EXCEPTION 'giftledger: entry % would be recorded at %, not before %; the '
                'write runs again', first_id + d + i - 1, rec, record_before
                USING ERRCODE = 'GLHED';
        END IF;
        head_time := rec;
        eff := CASE WHEN follows[i] THEN rec ELSE effective[i] END;
        prev := encode(sha256(convert_to(prev || '|' || (first_id + d + i - 1) || '|' ||
            encode(sha256(convert_to(befores[i] || eff || '|' || rec || afters[i], 'UTF8')),
                   'hex'), 'UTF8')), 'hex');
        out_hashes := out_hashes || prev;
        out_times := out_times || rec;
        out_effective := out_effective || eff;
    END LOOP;
    INSERT INTO gl_transactions (id, kind, effective_at, recorded_at, key, memo, metadata,
        reverses, hold_id, expires_at, rates, prev_hash, hash, hash_version)
    SELECT first_id + d + x.i - 1, kinds[x.i], out_effective[x.i], out_times[x.i], keys[x.i],
        memos[x.i], metas[x.i],
        CASE WHEN reverses[x.i] BETWEEN first_id AND first_id + n - 1 THEN reverses[x.i] + d
            ELSE reverses[x.i] END,
        CASE WHEN hold_ids[x.i] BETWEEN first_id AND first_id + n - 1 THEN hold_ids[x.i] + d
            ELSE hold_ids[x.i] END,
        expires[x.i], rates[x.i],
        CASE WHEN x.i = 1 THEN head_hash ELSE out_hashes[x.i - 1] END,
        out_hashes[x.i], versions[x.i]
    FROM generate_series(1, n) AS x(i);
    -- Each posting's running balance, corrected (for the accounts in b_account) by
    -- the account's net read here less the net the client expected.
    INSERT INTO gl_postings (tx_id, idx, account, side, minor, unit, net_after)
    SELECT p.tx + d, p.idx, p.account, p.side, p.minor, p.unit, p.net + coalesce(c.diff, 0)
    FROM unnest(p_tx, p_idx, p_account, p_side, p_minor, p_unit, p_net)
        AS p(tx, idx, account, side, minor, unit, net)
    LEFT JOIN LATERAL (
        SELECT g.net + coalesce((SELECT sum(s.net) FROM gl_balances s
                WHERE s.account = g.name), 0)
            - b_net[array_position(b_account, p.account)] AS diff
        FROM gl_accounts g WHERE g.name = p.account AND p.account = ANY(b_account) LIMIT 1
    ) AS c ON true;
    IF coalesce(array_length(k_key, 1), 0) > 0 THEN
        INSERT INTO gl_keys (key, fingerprint, transaction_id, result)
        SELECT k.key, k.fingerprint,
            CASE WHEN k.tx BETWEEN first_id AND first_id + n - 1 THEN k.tx + d ELSE k.tx END,
            k.result
        FROM unnest(k_key, k_fingerprint, k_tx, k_result) AS k(key, fingerprint, tx, result);
    END IF;
    RETURN QUERY SELECT d, head_hash, out_hashes, out_times;
END
$$
"""

# After a commit gl_link made asynchronous: wait for the flush (an empty logical
# message commits under the server's synchronous_commit, after our commit record);
# after a plain commit, write nothing, so nothing waits.
_GL_FLUSH = """
CREATE FUNCTION gl_flush() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('giftledger.flush', true) = 'on' THEN
        PERFORM pg_logical_emit_message(true, 'giftledger', '');
    END IF;
END
$$
"""

# The first round trip of a write that links at commit: lock the named accounts
# with a floor, one row at a time in the order given (name order: the one lock
# order), and return the states of all of them (record and totals, as
# gl_account_states), each read by its key whatever the tables' statistics.
_GL_OPEN = """
CREATE FUNCTION gl_open(names text[]) RETURNS TABLE (
    name text, unit text, normal text, min_balance bigint, closed boolean, trading boolean,
    metadata text, net bigint, pending_debits bigint, pending_credits bigint,
    next_expiry bigint
) LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan  -- key lookups: plan once (see gl_link)
AS $$
#variable_conflict use_column
DECLARE
    a gl_accounts;
    s record;
BEGIN
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        SELECT * INTO a FROM gl_accounts g
            WHERE g.name = names[i] AND g.min_balance IS NOT NULL AND NOT g.trading
            FOR UPDATE;
        IF NOT FOUND THEN
            SELECT * INTO a FROM gl_accounts g WHERE g.name = names[i];
        END IF;
        IF FOUND THEN
            SELECT coalesce(sum(b.net), 0)::bigint AS net,
                   coalesce(sum(b.pending_debits), 0)::bigint AS pd,
                   coalesce(sum(b.pending_credits), 0)::bigint AS pc
                INTO s FROM gl_balances b WHERE b.account = a.name;
            name := a.name;
            unit := a.unit;
            normal := a.normal;
            min_balance := a.min_balance;
            closed := a.closed;
            trading := a.trading;
            metadata := a.metadata::text;
            net := a.net + s.net;
            pending_debits := a.pending_debits + s.pd;
            pending_credits := a.pending_credits + s.pc;
            next_expiry := a.next_expiry;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$
"""

# Version 3: the entries indexed by the idempotency key they carry (the keyed ones
# only), so a write can tell in one lookup that an entry carries a key whose record
# in gl_keys is gone, and refuse to post it a second time; hash formula 3 (a keyed
# entry hashed with its idempotency record; see ``giftledger._ledger.hashing``): the
# column accepts it, and the version makes an earlier giftledger, which would chain
# formula 2 entries after formula 3 ones (a journal verify() refuses), refuse the
# database; and the head step done by the server (gl_open, gl_link, gl_flush above).
_SCHEMA_V3 = (
    "CREATE INDEX gl_transactions_key ON gl_transactions (key) WHERE key IS NOT NULL",
    "ALTER TABLE gl_transactions DROP CONSTRAINT gl_transactions_hash_version_check, "
    "ADD CONSTRAINT gl_transactions_hash_version_check CHECK (hash_version IN (1, 2, 3))",
    _GL_OPEN,
    _GL_LINK,
    _GL_FLUSH,
    "UPDATE gl_meta SET value = '3' WHERE key = 'schema_version'",
)

# Version 4: a post in one round trip (``gl_link``'s ``blind`` argument above), and
# both functions planned once per session (``plan_cache_mode``). The step drops the
# functions of version 3 and creates them again: a database created fresh runs both
# steps with the same (current) definitions.
# This ledger's advisory lock id (advisory locks are the database's): the OID of its
# journal table, as an int4. The function is inlined where it is called, and the
# name resolved when the calling statement is parsed or planned: free in a cached
# plan, which a dropped table invalidates (a schema re-created under a running store
# gets its new id at once).
_GL_LEDGER = """
CREATE OR REPLACE FUNCTION gl_ledger() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT ('gl_transactions'::regclass::oid::bigint - 2147483648)::integer
$$
"""

_SCHEMA_V4 = (
    _GL_LEDGER,
    "DROP FUNCTION gl_link",
    _GL_LINK,
    "DROP FUNCTION gl_open",
    _GL_OPEN,
    "UPDATE gl_meta SET value = '4' WHERE key = 'schema_version'",
)


def _link_without_trading() -> str:
    """``gl_link`` with schema 4's arguments, calling schema 5's with ``t_name`` NULL:
    a writer of the release before, still running while a newer one migrates the
    database, links as it did (it reads trading accounts before it writes)."""
    kept = _LINK_ARGS[: _LINK_ARGS.index("t_name text[]")]
    names = ", ".join(a.split()[0] for a in kept)
    return (
        f"CREATE FUNCTION gl_link({', '.join(kept)}) RETURNS TABLE (shift bigint, head "
        f"text, hashes text[], times bigint[]) LANGUAGE sql AS $$ SELECT * FROM "
        f"gl_link({names}, NULL::text[]) $$"
    )


# gl_link's arguments, as its definition declares them.
_LINK_ARGS = [
    a.strip()
    for a in _GL_LINK.split("CREATE FUNCTION gl_link(", 1)[1]
    .split(") RETURNS TABLE", 1)[0]
    .replace("\n", " ")
    .split(",")
]


# The argument types of schemas 5 and 6's gl_link, written out (a migration step must
# not follow later changes to the function): version 7 drops it.
_V5_LINK_TYPES = (
    "bigint, text[], bigint[], bigint[], text[], text[], json[], bigint[], bigint[], "
    "bigint[], json[], text[], text[], boolean[], smallint[], bigint[], integer[], text[], "
    "text[], bigint[], text[], bigint[], text[], bigint[], text[], text[], bigint[], text[], "
    "text[], bigint[], bigint[], bigint[], text[], bigint[], bigint[], bigint[], text[], "
    "numeric[], numeric[], boolean, text[]"
)


# Version 5: gl_link checks the trading accounts a client knows (``t_name``), so a
# convert between accounts the store knows goes in one round trip; the function of
# version 4's arguments stays, calling the new one (see _link_without_trading).
_SCHEMA_V5 = (
    "DROP FUNCTION gl_link",
    _GL_LINK,
    _link_without_trading(),
    "UPDATE gl_meta SET value = '5' WHERE key = 'schema_version'",
)

# Version 6: the holds by account and id, so an account's holds from an entry on
# (``holds_from``: a withdrawal's caps over a week) are an index range, not a range of
# every account's holds. Nothing else changes: writers of version 5 keep working.
_SCHEMA_V6 = (
    "CREATE INDEX gl_holds_debit_id ON gl_holds (debit, id)",
    "CREATE INDEX gl_holds_credit_id ON gl_holds (credit, id)",
    "UPDATE gl_meta SET value = '6' WHERE key = 'schema_version'",
)

# gl_link replaced by the current one, its arguments unchanged (versions 7 and 8).
_REPLACE_LINK = _GL_LINK.replace(
    "CREATE FUNCTION gl_link(", "CREATE OR REPLACE FUNCTION gl_link(", 1
)

# Version 7: gl_link takes ``record_before``, the time the entries it links must be recorded
# before (a gift priced by rules that change then; NULL: none), refusing with SQLSTATE
# GLHED an entry the head would date there. Its default, NULL, keeps the calls of
# schemas 5 and 6 (a writer of the release before: 41 arguments) and of schema 4 (the
# function of its arguments, above) working unchanged. Schema 5's function is dropped
# first (a call of its arguments would find two); a database created fresh has had
# the current one since version 3, and replaces it with itself.
_SCHEMA_V7 = (
    f"DROP FUNCTION IF EXISTS gl_link({_V5_LINK_TYPES})",
    _REPLACE_LINK,
    "UPDATE gl_meta SET value = '7' WHERE key = 'schema_version'",
)

# The slot of this session's delta rows in gl_balances and gl_totals (0 to 1023;
# writes holding the head add 1024): the one it claimed, else its backend's pid
# modulo 1024, as before version 8 (a writer of the release before, or a session
# that found every slot taken). A setting out of that range (set by hand, by a
# role's or a database's defaults) is not a slot: a session writing to 1024 or more
# before the head would share rows with one holding it, and deadlock.
_GL_SLOT = """
CREATE FUNCTION gl_slot() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN current_setting('giftledger.slot', true) ~ '^[0-9]{1,4}$'
                THEN CASE WHEN current_setting('giftledger.slot', true)::integer < 1024
                          THEN current_setting('giftledger.slot', true)::integer
                          ELSE pg_backend_pid() % 1024 END
                ELSE pg_backend_pid() % 1024 END
$$
"""

# A store's connection claims the lowest slot of its ledger no other session holds
# (the session advisory lock (0x676C0400 + slot, gl_ledger()), released when the
# session ends), once, outside any transaction: a setting made in one that rolls back
# is undone, and the lock kept. None free: the setting is emptied, and gl_slot()
# falls back to the pid. A setting the session has without holding its slot's lock
# for this ledger (a default of its role or database, set by hand, or claimed for a
# ledger since dropped) is not kept.
_GL_CLAIM_SLOT = """
CREATE FUNCTION gl_claim_slot() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ledger integer := gl_ledger();
    held text := current_setting('giftledger.slot', true);
BEGIN
    -- Claimed already: keep it (session locks stack: trying again would take a
    -- second slot if a lower one came free).
    -- (Nested: the cast only once the text is digits.)
    IF held ~ '^[0-9]{1,4}$' THEN
        IF held::integer < 1024 AND EXISTS (
                SELECT FROM pg_locks l WHERE l.locktype = 'advisory'
                    AND l.pid = pg_backend_pid() AND l.granted AND l.objsubid = 2
                    AND l.classid::bigint = 1735132160 + held::integer
                    AND l.objid::bigint = (ledger::bigint + 4294967296) % 4294967296) THEN
            RETURN held::integer;
        END IF;
    END IF;
    FOR k IN 0 .. 1023 LOOP
        IF pg_try_advisory_lock(1735132160 + k, ledger) THEN
            PERFORM set_config('giftledger.slot', k::text, false);
            RETURN k;
        END IF;
    END LOOP;
    PERFORM set_config('giftledger.slot', '', false);
    RETURN NULL;
END
$$
"""


def _fold(table: str, key: str, columns: str, sums: str) -> tuple[str, ...]:
    """Version 8's fold of ``table``'s slot rows into slot 0 of each ``key``: the sums
    first, in slot -1, then the other rows dropped, then slot -1 renamed 0 (the table
    locked exclusively; gl_balances' delete trigger off meanwhile)."""
    return (
        f"INSERT INTO {table} ({key}, slot, {columns}) "
        f"SELECT {key}, -1, {sums} FROM {table} GROUP BY {key}",
        f"DELETE FROM {table} WHERE slot <> -1",
        f"UPDATE {table} SET slot = 0 WHERE slot = -1",
    )


# Version 8: slots claimed per session, as many as the connections open at once (see
# the module notes); the rows written so far folded into slot 0. Writers of the
# release before keep writing to their pid's slot, during and after the migration.
_SCHEMA_V8 = (
    "LOCK TABLE gl_balances, gl_totals IN EXCLUSIVE MODE",
    "ALTER TABLE gl_balances DISABLE TRIGGER gl_balances_no_delete",
    *_fold(
        "gl_balances",
        "account",
        "net, pending_debits, pending_credits",
        "sum(net)::bigint, sum(pending_debits)::bigint, sum(pending_credits)::bigint",
    ),
    "ALTER TABLE gl_balances ENABLE TRIGGER gl_balances_no_delete",
    *_fold("gl_totals", "unit", "debits, credits", "sum(debits), sum(credits)"),
    _GL_SLOT,
    _GL_CLAIM_SLOT,
    _REPLACE_LINK,
    "UPDATE gl_meta SET value = '8' WHERE key = 'schema_version'",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _SCHEMA_V1,
    _SCHEMA_V2,
    _SCHEMA_V3,
    _SCHEMA_V4,
    _SCHEMA_V5,
    _SCHEMA_V6,
    _SCHEMA_V7,
    _SCHEMA_V8,
)
SCHEMA_VERSION = len(MIGRATIONS)
