"""giftledger: an immutable double-entry ledger for creator gift economies.

Exact money (integers of minor units, py-moneyed ``Money`` at the edge, never a
float), a general ledger with holds, reversals, idempotency and a hash chain,
and (in ``giftledger.presets`` and :class:`GiftEconomy`) the rules of real
platforms.

Example:
    >>> import giftledger as gl
    >>> book = gl.Ledger()
    >>> _ = book.open_account("assets:bank", "USD")
    >>> _ = book.open_account("liabilities:wallets", "USD", normal="credit")
    >>> _ = book.transfer("assets:bank", "liabilities:wallets", "19.99")
    >>> book.balance("liabilities:wallets")
    Money('19.99', 'USD')
"""

from __future__ import annotations

from . import presets
from ._economy.chain import GiftEconomy, Withdrawal
from ._economy.fx import DatedRate, RateSource, RateTable, convert_at
from ._economy.loading import load_economy
from ._economy.lots import CoinLot, LotSlice
from ._economy.records import (
    ChainRecord,
    ConversionRecord,
    GiftRecord,
    PartyRecord,
    PurchaseRecord,
    RefundRecord,
    RulesRecord,
    ViewPayRecord,
    WithdrawalFailRecord,
    WithdrawalPostRecord,
    WithdrawalRecord,
    WithdrawalSettleRecord,
    record_of,
)
from ._economy.rules import (
    CoinPack,
    Confidence,
    CreatorPay,
    Economy,
    Figure,
    Gift,
    PayoutModel,
    RefundPolicy,
    RewardsProgram,
    RuleSet,
    Source,
    SpentCoinPolicy,
    StoreFee,
    TaxRule,
    WithdrawalPolicy,
)
from ._economy.taxes import TaxTable
from ._economy.views import estimate_view_earnings
from ._errors import (
    AccountClosed,
    AccountExists,
    AlreadyReversed,
    AmountOutOfRange,
    BelowWithdrawalThreshold,
    ChainBroken,
    CurrencyMismatch,
    DuplicateKeyConflict,
    ExcessPrecision,
    FloatNotAllowed,
    GiftLedgerError,
    HoldExpired,
    HoldNotPending,
    InsufficientFunds,
    InvalidAmount,
    InvalidArgument,
    InvalidEconomy,
    InvalidTransaction,
    LimitExceeded,
    NotEligible,
    NotReversible,
    RateUnavailable,
    SchemaVersionError,
    StoreError,
    UnbalancedTransaction,
    UnitConflict,
    UnknownAccount,
    UnknownHold,
    UnknownRule,
    UnknownTransaction,
    UnknownUnit,
    WriteConflict,
)
from ._ledger.batch import TransactionRequest
from ._ledger.clock import Clock, ManualClock, SystemClock
from ._ledger.ledger import Ledger
from ._ledger.model import (
    Account,
    AccountBalance,
    BalanceRule,
    EntryKind,
    HistoryEntry,
    Hold,
    HoldStatus,
    Page,
    Posting,
    PostingSpec,
    Rate,
    Side,
    Transaction,
    TrialBalance,
    credit,
    debit,
)
from ._ledger.store import (
    AccountState,
    IdempotencyRecord,
    PostingRow,
    Store,
    StoreReader,
    StoreWriter,
)
from ._ledger.text import check_text
from ._money.allocation import Leftover, Portion, allocate, fixed, percent, remaining, split
from ._money.amounts import MAX_MINOR, Rounding, from_minor, round_fraction, to_minor
from ._money.formatting import format_money, parse_money
from ._money.units import Unit, UnitKind, get_unit, register_unit
from ._reports.explain import (
    Explanation,
    GiftTrace,
    PurchaseSlice,
    Statement,
    StatementLine,
)
from ._stores.memory import MemoryStore
from ._stores.postgres import PostgresStore
from ._stores.sqlite import SQLiteStore

__version__ = "0.1.0.dev0"

__all__ = [
    "MAX_MINOR",
    "Account",
    "AccountBalance",
    "AccountClosed",
    "AccountExists",
    "AccountState",
    "AlreadyReversed",
    "AmountOutOfRange",
    "BalanceRule",
    "BelowWithdrawalThreshold",
    "ChainBroken",
    "ChainRecord",
    "Clock",
    "CoinLot",
    "CoinPack",
    "Confidence",
    "ConversionRecord",
    "CreatorPay",
    "CurrencyMismatch",
    "DatedRate",
    "DuplicateKeyConflict",
    "Economy",
    "EntryKind",
    "ExcessPrecision",
    "Explanation",
    "Figure",
    "FloatNotAllowed",
    "Gift",
    "GiftEconomy",
    "GiftLedgerError",
    "GiftRecord",
    "GiftTrace",
    "HistoryEntry",
    "Hold",
    "HoldExpired",
    "HoldNotPending",
    "HoldStatus",
    "IdempotencyRecord",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidArgument",
    "InvalidEconomy",
    "InvalidTransaction",
    "Ledger",
    "Leftover",
    "LimitExceeded",
    "LotSlice",
    "ManualClock",
    "MemoryStore",
    "NotEligible",
    "NotReversible",
    "Page",
    "PartyRecord",
    "PayoutModel",
    "Portion",
    "PostgresStore",
    "Posting",
    "PostingRow",
    "PostingSpec",
    "PurchaseRecord",
    "PurchaseSlice",
    "Rate",
    "RateSource",
    "RateTable",
    "RateUnavailable",
    "RefundPolicy",
    "RefundRecord",
    "RewardsProgram",
    "Rounding",
    "RuleSet",
    "RulesRecord",
    "SQLiteStore",
    "SchemaVersionError",
    "Side",
    "Source",
    "SpentCoinPolicy",
    "Statement",
    "StatementLine",
    "Store",
    "StoreError",
    "StoreFee",
    "StoreReader",
    "StoreWriter",
    "SystemClock",
    "TaxRule",
    "TaxTable",
    "Transaction",
    "TransactionRequest",
    "TrialBalance",
    "UnbalancedTransaction",
    "Unit",
    "UnitConflict",
    "UnitKind",
    "UnknownAccount",
    "UnknownHold",
    "UnknownRule",
    "UnknownTransaction",
    "UnknownUnit",
    "ViewPayRecord",
    "Withdrawal",
    "WithdrawalFailRecord",
    "WithdrawalPolicy",
    "WithdrawalPostRecord",
    "WithdrawalRecord",
    "WithdrawalSettleRecord",
    "WriteConflict",
    "__version__",
    "allocate",
    "check_text",
    "convert_at",
    "credit",
    "debit",
    "estimate_view_earnings",
    "fixed",
    "format_money",
    "from_minor",
    "get_unit",
    "load_economy",
    "parse_money",
    "percent",
    "presets",
    "record_of",
    "register_unit",
    "remaining",
    "round_fraction",
    "split",
    "to_minor",
]
