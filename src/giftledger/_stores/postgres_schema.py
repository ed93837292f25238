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
idempotency key they carry, and lets ``hash_version`` be 3: new entries are chained
by formula 3, which hashes a keyed entry with its idempotency record.
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

# Version 3: the entries indexed by the idempotency key they carry (the keyed ones
# only), so a write can tell in one lookup that an entry carries a key whose record
# in gl_keys is gone, and refuse to post it a second time; and hash formula 3 (a
# keyed entry hashed with its idempotency record; see ``giftledger._ledger.hashing``):
# the column accepts it, and the version makes an earlier giftledger, which would
# chain formula 2 entries after formula 3 ones (a journal verify() refuses), refuse
# the database.
_SCHEMA_V3 = (
    "CREATE INDEX gl_transactions_key ON gl_transactions (key) WHERE key IS NOT NULL",
    "ALTER TABLE gl_transactions DROP CONSTRAINT gl_transactions_hash_version_check, "
    "ADD CONSTRAINT gl_transactions_hash_version_check CHECK (hash_version IN (1, 2, 3))",
    "UPDATE gl_meta SET value = '3' WHERE key = 'schema_version'",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3)
SCHEMA_VERSION = len(MIGRATIONS)
