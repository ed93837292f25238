"""Statements and explanations in the reader's language: labels, amounts, dates, unit names."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from moneyed import Money

import giftledger as gl

from ..economy.chainkit import app_for, simple_economy, tiktok

# What each locale must read: one label, the word for the preset's Diamonds.
LOCALES = {
    "en_US": ("Statement for", "diamonds", "Store fees", "Withdrawal"),
    "de_DE": ("Abrechnung für", "Diamanten", "Store-Gebühren", "Auszahlung"),
    "fr_FR": ("Relevé de", "diamants", "Commissions des boutiques", "Retrait"),
    "es_ES": ("Extracto de", "diamantes", "Comisiones de las tiendas", "Retiro"),
    "pt_BR": ("Extrato de", "diamantes", "Taxas das lojas", "Saque"),
    "ja_JP": ("明細書", "ダイヤモンド", "ストア手数料", "出金"),
}


def _busy(econ: gl.Economy | None = None) -> tuple[gl.Ledger, gl.GiftEconomy]:
    """A creator with big gifts (grouping shows), a conversion, a withdrawal with a fee."""
    econ = econ or simple_economy(
        withdrawal=gl.WithdrawalPolicy(minimum=Money("1", "USD"), fee_rate=Fraction(1, 100))
    )
    book, clock, app = app_for(econ)
    app.open_viewer("ann", region="US")
    app.open_creator("bob", region="US", payout_currency="USD")
    for _ in range(30):
        app.buy_coins("ann", pack=10000, channel="web")
    app.send_gift("ann", "bob", "Galaxy", 250)  # 250,000 coins: $1,250.00 owed
    clock.advance(timedelta(days=1))
    app.convert_diamonds("bob")
    w = app.request_withdrawal("bob", Money("1234.56", "USD"))
    app.complete_withdrawal(w)
    return book, app


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_a_statement_reads_in_its_locale(locale: str) -> None:
    book, app = _busy()
    head = book.head
    title, diamonds, _, withdrawal = LOCALES[locale]
    st = app.statement("bob", locale=locale)
    text = st.render()
    assert st.locale == locale
    assert text.splitlines()[0].find(title) >= 0
    # babel's own currency format for this locale, computed here independently.
    for amount in ("1234.56", "1250.00", "12.35", "1222.21"):
        assert format_currency(Decimal(amount), "USD", locale=locale) in text, (amount, text)
    # The units in the economy's names (translated for the presets' names), grouped.
    assert f"{format_decimal(250000, locale=locale)} {diamonds}" in text
    assert format_date(st.lines[0].at.date(), "medium", locale=locale) in text
    assert withdrawal in text
    assert book.head == head  # reading wrote nothing


def test_the_withdrawal_lines_say_what_reached_the_bank_and_the_fee() -> None:
    _, app = _busy()
    st = app.statement("bob", locale="de_DE")
    request, paid = (line for line in st.lines if line.kind.startswith("withdrawal"))
    assert request.amount == Money("-1234.56", "USD")
    assert request.fee == Money("12.35", "USD")  # 1% of 1,234.56, as the rules round it
    assert paid.paid_out == Money("1222.21", "USD")
    assert paid.fee == request.fee
    assert paid.paid_out + paid.fee == -request.amount
    assert "1.222,21\xa0$" in paid.description
    assert "12,35\xa0$" in paid.description
    assert "12,35\xa0$" in request.description  # the fee, localised (never "fee 0.00")


def test_a_zero_fee_is_not_printed() -> None:
    _book, clock, app = tiktok()
    app.open_viewer("ann", region="US")
    app.open_creator("bob", region="US", age=30)
    for _ in range(5):
        app.buy_coins("ann", pack=7000, channel="web")
    app.send_gift("ann", "bob", "Lion")
    clock.advance(timedelta(days=1))
    app.convert_diamonds("bob")
    w = app.request_withdrawal("bob", app.ledger.available("creators:bob:cash"))
    app.complete_withdrawal(w)
    text = app.statement("bob", locale="fr_FR").render()
    assert "frais" not in text
    assert "0,00" not in text


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_the_economys_own_unit_names_are_used_in_every_locale(locale: str) -> None:
    # DIAMOND is registered as "diamond" already; this economy calls it a "kick".
    econ = attrs.evolve(
        simple_economy(
            withdrawal=gl.WithdrawalPolicy(minimum=Money("1", "USD"), fee_rate=Fraction(1, 100))
        ),
        unit_names={"DIAMOND": ("kick", "kicks"), "COIN": ("chip", "chips")},
    )
    _, app = _busy(econ)
    text = app.statement("bob", locale=locale).render()
    assert f"{format_decimal(250000, locale=locale)} kicks" in text
    assert "diamond" not in text.lower()
    ex = app.explain("bob", locale=locale)
    assert "kicks" in str(ex)
    assert "chips" in ex.render(gifts=True)


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_an_explanation_reads_in_its_locale(locale: str) -> None:
    _, app = _busy()
    _, diamonds, store_fees, _ = LOCALES[locale]
    ex = app.explain("bob", locale=locale)
    text = str(ex)
    assert ex.locale == locale
    assert store_fees in text
    assert diamonds in text
    assert format_currency(Decimal("1222.21"), "USD", locale=locale) in text  # to the bank
    assert ex == app.explain("bob", locale=gl_locale(locale))


def gl_locale(name: str) -> object:
    from babel import Locale

    return Locale.parse(name)


def test_plurals_follow_the_locale() -> None:
    _, app = _busy()
    assert app.explain("bob", locale="de_DE").receipt().title == "bob: 1 Geschenk"
    assert str(app.statement("bob", locale="de_DE")).startswith("Abrechnung für bob (4 Buchungen)")
    assert str(app.statement("bob", locale="fr_FR")).startswith("Relevé de bob (4 opérations)")


@pytest.mark.parametrize("bad", ["xx_NOPE", "klingon", ""])
def test_a_bad_locale_is_refused_naming_it_and_reads_nothing(bad: str) -> None:
    book, app = _busy()
    head = book.head
    with pytest.raises(gl.UnknownLocale, match=repr(bad).replace("'", "'")):
        app.statement("bob", locale=bad)
    with pytest.raises(gl.UnknownLocale):
        app.explain("bob", locale=bad)
    with pytest.raises(gl.UnknownLocale):
        app.explain("bob").render(locale=bad)
    assert book.head == head
