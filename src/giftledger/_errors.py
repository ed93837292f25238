"""Every error giftledger raises, in one tree.

Each leaf also subclasses the builtin exception it resembles, so a caller's
``except ValueError`` or ``except LookupError`` keeps working::

    GiftLedgerError
    ├── InvalidAmount (ValueError)             a value that is not an exact amount
    │   ├── ExcessPrecision                    more fraction digits than the unit has
    │   └── AmountOutOfRange                   beyond what 64-bit minor units can hold
    ├── FloatNotAllowed (TypeError)            a float where money, a rate or a ratio goes
    ├── UnknownUnit (LookupError)              a unit code nobody registered
    ├── UnitConflict (ValueError)              one code registered with two exponents
    ├── CurrencyMismatch (TypeError)           an amount in the wrong unit, or two units mixed
    ├── InvalidArgument (ValueError)           a malformed name, time, key or option
    │   └── UnknownLocale                      a locale babel does not know
    ├── InvalidTransaction (ValueError)        postings that cannot form a transaction
    │   └── UnbalancedTransaction              debits differ from credits in some unit
    ├── AccountExists (ValueError)             opening a name that is already open
    ├── UnknownAccount (LookupError)           naming an account that was never opened
    │   └── UnknownParty                       a viewer or creator the chain never opened
    ├── AccountClosed (ValueError)             posting to a closed account
    ├── InsufficientFunds (ValueError)         a posting that breaks a balance rule
    │   └── BelowWithdrawalThreshold           a withdrawal under the minimum
    ├── LimitExceeded (ValueError)             a cap (daily withdrawal cap, …) reached
    ├── NotEligible (PermissionError)          a party the rules do not allow to act
    ├── DuplicateKeyConflict (ValueError)      an idempotency key reused for other content
    ├── UnknownTransaction (LookupError)       a transaction id that does not exist
    ├── UnknownHold (LookupError)              a hold id that does not exist
    ├── HoldNotPending (ValueError)            posting or voiding a hold already settled
    │   └── HoldExpired                        posting or voiding a hold past its expiry
    ├── AlreadyReversed (ValueError)           a second reversal of one transaction
    ├── NotReversible (ValueError)             reversing a hold, a reversal or a void
    ├── RateUnavailable (LookupError)          no exchange rate for a pair at a time
    ├── ChainBroken (ValueError)               verify() found a changed or missing entry
    ├── CursorMismatch (ValueError)            a feed cursor the journal no longer holds
    ├── RestoreRefused (ValueError)            an export edited, cut short or reordered, or
    │                                          a target ledger that is not empty
    ├── ProofFailed (ValueError)               a checkpoint, proof or statement that does not check
    ├── InvalidEconomy (ValueError)            rules that contradict themselves or lack a field
    ├── UnknownRule (LookupError)              a gift, pack, channel or region not in the rules
    ├── MissingExtra (ImportError)             an optional part whose package is not installed
    └── StoreError (RuntimeError)              the storage engine failed or is incompatible
        ├── SchemaVersionError                 a database newer (or older) than this library
        └── WriteConflict                      a write kept losing races with other writers

Messages say what was wrong, with the offending value, and what to do.
A failed call changes nothing. A failure replayed for an idempotency key (the
same request, under a key whose first attempt failed) carries that key in
``replayed_key``.
"""

from __future__ import annotations

__all__ = [
    "AccountClosed",
    "AccountExists",
    "AlreadyReversed",
    "AmountOutOfRange",
    "BelowWithdrawalThreshold",
    "ChainBroken",
    "CurrencyMismatch",
    "CursorMismatch",
    "DuplicateKeyConflict",
    "ExcessPrecision",
    "FloatNotAllowed",
    "GiftLedgerError",
    "HoldExpired",
    "HoldNotPending",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidArgument",
    "InvalidEconomy",
    "InvalidTransaction",
    "LimitExceeded",
    "MissingExtra",
    "NotEligible",
    "NotReversible",
    "ProofFailed",
    "RateUnavailable",
    "RestoreRefused",
    "SchemaVersionError",
    "StoreError",
    "UnbalancedTransaction",
    "UnitConflict",
    "UnknownAccount",
    "UnknownHold",
    "UnknownLocale",
    "UnknownParty",
    "UnknownRule",
    "UnknownTransaction",
    "UnknownUnit",
    "WriteConflict",
]


class GiftLedgerError(Exception):
    """The root of every error giftledger raises on purpose.

    Attributes:
        replayed_key: None for a failure of this very call. When the call repeated a
            request under an idempotency key whose first attempt failed, the ledger
            raises the remembered error again (same class, same message, with
            "(replayed for idempotency key …)" added) and sets this to the key.
    """

    replayed_key: str | None = None

    def __str__(self) -> str:
        # LookupError subclasses would otherwise quote the message like a KeyError.
        return str(self.args[0]) if self.args else self.__class__.__name__


class InvalidAmount(GiftLedgerError, ValueError):
    """A value that is not an exact amount (NaN, infinity, text that is not a number)."""


class ExcessPrecision(InvalidAmount):
    """An amount with more fraction digits than its unit allows, and no rounding named."""


class AmountOutOfRange(InvalidAmount):
    """An amount whose minor units do not fit in a signed 64-bit integer."""


class FloatNotAllowed(GiftLedgerError, TypeError):
    """A float (or bool) given where an amount, a rate or a ratio goes."""


class UnknownUnit(GiftLedgerError, LookupError):
    """A unit code that is neither ISO 4217 nor registered as a virtual unit."""


class UnitConflict(GiftLedgerError, ValueError):
    """A unit code registered twice with different exponents or kinds."""


class CurrencyMismatch(GiftLedgerError, TypeError):
    """An amount in a unit other than the account's, or a transfer across units."""


class InvalidArgument(GiftLedgerError, ValueError):
    """A malformed account name, timestamp, key, metadata value or option."""


class UnknownLocale(InvalidArgument):
    """A locale (for a statement, an explanation, a format) that babel does not know."""


class InvalidTransaction(GiftLedgerError, ValueError):
    """Postings that cannot form a transaction (none, zero, negative, duplicated)."""


class UnbalancedTransaction(InvalidTransaction):
    """Debits and credits differ in at least one unit."""


class AccountExists(GiftLedgerError, ValueError):
    """Opening an account whose name is already taken with other settings."""


class UnknownAccount(GiftLedgerError, LookupError):
    """An account name that was never opened."""


class UnknownParty(UnknownAccount):
    """A viewer or creator the chain never opened.

    Attributes:
        role: ``"viewer"`` or ``"creator"`` (None when the error was replayed for an
            idempotency key, which keeps only its message).
        name: the party's name, or None likewise.

    Example:
        >>> err = UnknownParty("unknown creator 'zoe'", role="creator", name="zoe")
        >>> isinstance(err, UnknownAccount), err.role, err.name
        (True, 'creator', 'zoe')
    """

    def __init__(self, message: str, *, role: str | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.role = role
        self.name = name


class AccountClosed(GiftLedgerError, ValueError):
    """A posting to, or a hold on, a closed account."""


class InsufficientFunds(GiftLedgerError, ValueError):
    """A posting or hold that would take an account below its balance rule."""


class BelowWithdrawalThreshold(InsufficientFunds):
    """A withdrawal below the minimum the rules set."""


class LimitExceeded(GiftLedgerError, ValueError):
    """A request beyond a cap the rules set (daily withdrawal cap, per-viewer limit)."""


class NotEligible(GiftLedgerError, PermissionError):
    """A viewer or creator the rules do not allow to do this (age, verification, region)."""


class DuplicateKeyConflict(GiftLedgerError, ValueError):
    """An idempotency key reused with different content."""


class UnknownTransaction(GiftLedgerError, LookupError):
    """A transaction id that does not exist in this ledger."""


class UnknownHold(GiftLedgerError, LookupError):
    """A hold id that does not exist in this ledger."""


class HoldNotPending(GiftLedgerError, ValueError):
    """Posting or voiding a hold that was already posted, voided or expired."""


class HoldExpired(HoldNotPending):
    """Posting or voiding a hold whose expiry time has passed."""


class AlreadyReversed(GiftLedgerError, ValueError):
    """Reversing a transaction that was already reversed."""


class NotReversible(GiftLedgerError, ValueError):
    """Reversing an entry that moves no posted money (a hold, a void) or is a reversal."""


class RateUnavailable(GiftLedgerError, LookupError):
    """No exchange rate known for a pair of units at the time asked."""


class ChainBroken(GiftLedgerError, ValueError):
    """``verify()`` found an entry whose hash, link or invariant does not hold.

    Attributes:
        transaction_id: the id of the first entry found broken, or None when the
            break is not in one entry (a wrong trial balance, a missing tail).
    """

    def __init__(self, message: str, transaction_id: int | None = None) -> None:
        super().__init__(message)
        self.transaction_id = transaction_id


class CursorMismatch(GiftLedgerError, ValueError):
    """A change-feed cursor the journal no longer holds: its entry is gone or has
    another hash, or an entry does not chain onto the one the feed delivered (the
    store was rolled back, restored from an older copy or rewritten)."""


class RestoreRefused(GiftLedgerError, ValueError):
    """An export that cannot be restored, or a ledger it cannot be restored into.

    Raised for a line that is not what the format says, an entry whose hash or
    link to the entry before does not hold (an edited, injected, reordered or
    removed line), an export cut short, or a target ledger that is not empty.
    Nothing is written.

    Attributes:
        line: the 1-based line of the export at fault, or None.
        transaction_id: the id of the entry at fault, or None.
    """

    def __init__(
        self, message: str, line: int | None = None, transaction_id: int | None = None
    ) -> None:
        super().__init__(message)
        self.line = line
        self.transaction_id = transaction_id


class ProofFailed(GiftLedgerError, ValueError):
    """A checkpoint, proof or proven statement that does not check out.

    Raised by the standalone checks (:func:`~giftledger.verify_inclusion`,
    :func:`~giftledger.verify_consistency`, :func:`~giftledger.verify_statement`,
    :meth:`Checkpoint.verify_signature <giftledger.Checkpoint.verify_signature>`),
    which need no database.

    Attributes:
        line: for a proven statement, the number (from 1) of the first line that
            fails, or None when the failure is not in one line.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class InvalidEconomy(GiftLedgerError, ValueError):
    """Economy rules that are missing a field, have a wrong type, or contradict each other."""


class UnknownRule(GiftLedgerError, LookupError):
    """A gift, coin pack, sales channel, region or preset not in the rules."""


class MissingExtra(GiftLedgerError, ImportError):
    """An optional part of giftledger needs a package that is not installed; the
    message names the extra to install (``pip install 'giftledger[signing]'``)."""


class StoreError(GiftLedgerError, RuntimeError):
    """The storage engine failed or holds something this library cannot read.

    Attributes:
        retryable: True when the store rolled the write back because it lost a race
            with another writer (a deadlock or a serialization failure on PostgreSQL),
            so running the same write again may succeed. The ledger does that itself
            before an error reaches a caller.
    """

    retryable: bool = False


class WriteBlockFailed(StoreError):
    """A write block can no longer commit: a write joined to it failed after it wrote, or
    the database rolled it back itself (SQLite may, on a full disk, an I/O error or an
    interrupt), or SQLite kept part of the block's rows from an insert that failed, or a
    round trip of the block to PostgreSQL did not complete (an exception a signal handler
    raised landed in it).

    Raised for each later write opened in the block, and by the block itself when it
    ends without an error, once it has rolled everything back. The message names the
    failure that doomed it. Nothing of the block is kept; it may be run again.

    Example:
        >>> import giftledger as gl
        >>> issubclass(gl.WriteBlockFailed, gl.StoreError)
        True
    """


class SchemaVersionError(StoreError):
    """A database whose schema version this library does not support."""


class WriteConflict(StoreError):
    """A write lost a race with concurrent writers and was rolled back, every time it ran.

    The ledger runs such a write again on fresh state (with a short random wait
    between attempts) and raises this only when every attempt lost. Nothing was
    written; the request may be sent again.
    """

    retryable = True
