"""Units of account: ISO 4217 currencies and the virtual units an economy declares.

A unit has a code, a fixed exponent (how many fraction digits an amount may
carry), a kind, and the display names used when an amount is written out.
Fiat units come from the ISO 4217 data that py-moneyed ships; virtual units
(COIN, DIAMOND, BIT, STAR, BEAN …) are declared with :func:`register_unit`.

py-moneyed keeps one global currency table and silently overwrites on a second
``add_currency``. giftledger registers each virtual unit there exactly once and
refuses a second registration of the same code with another exponent, so two
libraries in one process cannot quietly disagree about what a COIN is.
"""

from __future__ import annotations

import enum
import threading

import attrs
import moneyed

from .._boundary import shown
from .._errors import InvalidArgument, UnitConflict, UnknownUnit

__all__ = ["Unit", "UnitKind", "get_unit", "register_unit"]


class UnitKind(enum.Enum):
    """Whether a unit is a state currency (ISO 4217) or a platform's own token."""

    FIAT = "fiat"
    VIRTUAL = "virtual"


@attrs.frozen(slots=True)
class Unit:
    """A unit of account.

    Attributes:
        code: the unit's code, upper case (``"USD"``, ``"COIN"``).
        exponent: fraction digits an amount may carry (USD 2, JPY 0, KWD 3, COIN 0).
        kind: fiat or virtual.
        singular: display name for one unit (``"coin"``); for fiat, the code.
        plural: display name for any other count (``"coins"``).

    Example:
        >>> from giftledger import get_unit
        >>> get_unit("KWD").exponent
        3
    """

    code: str
    exponent: int
    kind: UnitKind
    singular: str
    plural: str

    @property
    def scale(self) -> int:
        """How many minor units make one major unit (``10 ** exponent``)."""
        return 10**self.exponent  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return self.code


_lock = threading.Lock()
_units: dict[str, Unit] = {}


def _exponent_of_sub_unit(code: str, sub_unit: int) -> int:
    exponent = len(str(sub_unit)) - 1
    if 10**exponent != sub_unit:  # pragma: no cover - py-moneyed data is decimal
        raise UnitConflict(f"currency {shown(code)} has a non-decimal sub unit {sub_unit}")
    return exponent


def get_unit(code: str) -> Unit:
    """Return the unit for ``code``: a registered virtual unit or an ISO 4217 currency.

    Raises:
        UnknownUnit: the code is neither registered nor an ISO 4217 currency.
    """
    try:
        unit = _units.get(code)
    except TypeError:  # unhashable: a list, a dict … (the try costs nothing on the hit path)
        unit = None
    if unit is not None:
        return unit
    if not isinstance(code, str):
        raise UnknownUnit(f"unit code must be a string, got {shown(code)}")
    currency = moneyed.CURRENCIES.get(code)
    if currency is None or currency.numeric is None:
        raise UnknownUnit(
            f"unknown unit {shown(code)}: not an ISO 4217 currency and not registered; "
            f"declare virtual units with giftledger.register_unit({shown(code)}, exponent=0)"
        )
    unit = Unit(
        code=code,
        exponent=_exponent_of_sub_unit(code, currency.sub_unit),
        kind=UnitKind.FIAT,
        singular=code,
        plural=code,
    )
    with _lock:
        return _units.setdefault(code, unit)


def register_unit(
    code: str,
    exponent: int = 0,
    *,
    singular: str | None = None,
    plural: str | None = None,
) -> Unit:
    """Declare a virtual unit, idempotently.

    Registering the same code again with the same exponent returns the unit
    already registered (display names given the second time are ignored);
    another exponent is an error, and so is a code that is an ISO currency.

    Args:
        code: upper-case letters, digits and ``_``, 2 to 16 long (``"COIN"``).
        exponent: fraction digits, 0 to 18.
        singular: display name for one (default: the code in lower case).
        plural: display name for many (default: singular + ``"s"``).

    Returns:
        The registered :class:`Unit`.

    Raises:
        UnitConflict: the code exists with another exponent, or is an ISO currency.
        InvalidArgument: the code or exponent is malformed.

    Example:
        >>> from giftledger import register_unit
        >>> register_unit("BEAN", 0, singular="bean").plural
        'beans'
    """
    if (
        not isinstance(code, str)
        or not (2 <= len(code) <= 16)
        or not all(c.isascii() and (c.isupper() or c.isdigit() or c == "_") for c in code)
    ):
        raise InvalidArgument(
            f"unit code {shown(code)} must be 2 to 16 upper-case ASCII letters, digits or '_'"
        )
    if isinstance(exponent, bool) or not isinstance(exponent, int) or not 0 <= exponent <= 18:
        raise InvalidArgument(f"unit exponent {shown(exponent)} must be an integer from 0 to 18")
    singular = singular if singular is not None else code.lower()
    plural = plural if plural is not None else singular + "s"
    with _lock:
        existing = _units.get(code)
        if existing is None:
            currency = moneyed.CURRENCIES.get(code)
            if currency is not None and currency.numeric is not None:
                raise UnitConflict(
                    f"{shown(code)} is an ISO 4217 currency; virtual units need another code"
                )
            if currency is not None and currency.sub_unit != 10**exponent:
                raise UnitConflict(
                    f"py-moneyed already knows {shown(code)} with sub unit {currency.sub_unit}, "
                    f"which disagrees with exponent {exponent}"
                )
            if currency is None:
                moneyed.add_currency(code, None, sub_unit=10**exponent, name=singular)
            unit = Unit(code, exponent, UnitKind.VIRTUAL, singular, plural)
            _units[code] = unit
            return unit
    if existing.kind is not UnitKind.VIRTUAL or existing.exponent != exponent:
        raise UnitConflict(
            f"unit {shown(code)} is already registered with exponent {existing.exponent} "
            f"({existing.kind.value}); it cannot be registered again with exponent {exponent}"
        )
    return existing
