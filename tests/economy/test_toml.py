"""Economies load from TOML with errors that name the path, and write back unchanged."""

# The table of bad fields reads best with one case per line, path and message in full.
# ruff: noqa: E501

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from moneyed import Money

import giftledger as gl
from giftledger import Economy

MINIMAL = """
name = "mini"
title = "Mini"
books_currency = "USD"
coin_unit = { code = "COIN", singular = "coin" }
creator_unit = "DIAMOND"
assumptions = ["The web fee is a guess."]

[[versions]]
effective_from = 2024-01-01T00:00:00Z
min_buyer_age = 18
sources = { min_buyer_age = { citation = "Terms", as_of = 2024-01-01, confidence = "official" } }

[[versions.store_fees]]
channel = "ios"
rate = "30%"
account = "apple"
source = { citation = "Apple", confidence = "official" }

[[versions.store_fees]]
channel = "web"
rate = "3/100"
source = { citation = "preset", confidence = "assumption", note = "a guess" }

[versions.ladders.app]
channels = ["ios"]
currency = "USD"
packs = { 70 = "0.99", 1400 = "19.99" }
source = { citation = "guide", confidence = "third-party" }
sources = { 1400 = { citation = "other guide", as_of = 2023-05-01, confidence = "third-party" } }

[[versions.coin_packs]]
coins = 70
price = "0.74 USD"
channel = "web"

[[versions.taxes]]
region = "DE"
rate = "0.19"

[versions.gifts]
Rose = 1
Galaxy = 1000

[versions.creator_pay]
model = "diamond_value"
creator_units_per_coin = 1
value_per_unit = "0.005 USD"

[versions.withdrawal]
minimum = "100 USD"
daily_cap = "1000 USD"
methods = ["paypal"]

[[versions]]
effective_from = 2024-07-01

[versions.withdrawal]
minimum = "50 USD"
"""


def test_minimal_file_loads_with_exact_values() -> None:
    econ = Economy.from_toml(MINIMAL)
    assert econ.name == "mini"
    first = econ.versions[0]
    assert first.store_fee("ios").rate == Fraction(3, 10)
    assert first.store_fee("web").rate == Fraction(3, 100)
    assert first.store_fee("web").account == "web"
    assert first.tax("DE").rate == Fraction(19, 100)
    assert first.tax("DE").inclusive is True
    assert [(p.coins, p.channel) for p in first.coin_packs] == [
        (70, "web"),
        (70, "ios"),
        (1400, "ios"),
    ]
    assert first.pack(1400, "ios").price == Money("19.99", "USD")
    assert first.creator_pay.value_per_unit == Fraction(1, 200)
    assert first.creator_pay.value_currency == "USD"
    assert first.withdrawal.minimum == Money("100", "USD")


def test_a_later_version_lists_only_what_changes_and_keeps_sources() -> None:
    econ = Economy.from_toml(MINIMAL)
    later = econ.rules_at(datetime(2024, 7, 1, tzinfo=UTC))
    assert later.withdrawal.minimum == Money("50", "USD")
    assert later.withdrawal.daily_cap is None  # the whole table was replaced
    assert later.gifts == econ.versions[0].gifts
    assert econ.source_of("versions[1].store_fees[0].rate").citation == "Apple"
    assert econ.source_of("versions[1].min_buyer_age").as_of == date(2024, 1, 1)
    # A date without a time means midnight UTC.
    assert later.effective_from == datetime(2024, 7, 1, tzinfo=UTC)


def test_sources_attach_to_tables_ladders_and_single_packs() -> None:
    econ = Economy.from_toml(MINIMAL)
    assert econ.source_of("versions[0].coin_packs[1].price").citation == "guide"
    assert econ.source_of("versions[0].coin_packs[2].price").citation == "other guide"
    assert econ.source_of("versions[0].store_fees[1].rate").confidence is gl.Confidence.ASSUMPTION
    with pytest.raises(gl.UnknownRule, match="no source is recorded"):
        econ.source_of("versions[0].coin_packs[0].price")
    assert econ.assumptions == ("The web fee is a guess.",)


def test_round_trip_of_the_minimal_file() -> None:
    econ = Economy.from_toml(MINIMAL)
    text = econ.to_toml()
    again = Economy.from_toml(text)
    assert again == econ
    assert again.to_toml() == text


@pytest.mark.parametrize("name", [p.name for p in gl.presets.list()])
def test_round_trip_of_every_preset(name: str) -> None:
    econ = gl.presets.load(name)
    again = Economy.from_toml(econ.to_toml())
    assert again == econ
    assert again.sources == econ.sources
    assert again.variant == econ.variant


def test_load_economy_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert gl.load_economy(path) == Economy.from_toml(MINIMAL)
    assert Economy.from_toml(path) == Economy.from_toml(str(path))
    with pytest.raises(gl.InvalidEconomy, match="cannot read economy file"):
        gl.load_economy(tmp_path / "missing.toml")


def _edit(old: str, new: str) -> str:
    assert old in MINIMAL, old
    return MINIMAL.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _edit('rate = "30%"', "rate = 0.3"),
            r"^versions\[0\]\.store_fees\[0\]\.rate: 0\.3 is a TOML float",
        ),
        (
            _edit('rate = "30%"', 'rate = "130%"'),
            r"^versions\[0\]\.store_fees\[0\]\.rate: 1\.3 must be between 0 and 1$",
        ),
        (
            _edit('rate = "30%"', 'rate = "-30%"'),
            r"^versions\[0\]\.store_fees\[0\]\.rate: -0\.3 must be between",
        ),
        (
            _edit('rate = "30%"', 'rate = "thirty"'),
            r"^versions\[0\]\.store_fees\[0\]\.rate: 'thirty' is not a rate",
        ),
        (
            _edit('rate = "30%"', "rate = true"),
            r"^versions\[0\]\.store_fees\[0\]\.rate: True is a boolean",
        ),
        (
            _edit('rate = "30%"\n', ""),
            r"^versions\[0\]\.store_fees\[0\]\.rate: missing \(required\)",
        ),
        (
            _edit('channel = "ios"\nrate', 'channel = "ipad"\nrate'),
            r"^versions\[0\]\.coin_packs\[1\]\.channel: 'ios' has no store fee; store fees exist for ipad, web$",
        ),
        (
            _edit('channel = "web"\n\n[[versions.taxes]]', 'channel = "tv"\n\n[[versions.taxes]]'),
            r"^versions\[0\]\.coin_packs\[0\]\.channel: 'tv' has no store fee; store fees exist for ios, web$",
        ),
        (
            _edit("coins = 70\n", "coins = 70.0\n"),
            r"^versions\[0\]\.coin_packs\[0\]\.coins: 70\.0 is a TOML float",
        ),
        (
            _edit("coins = 70\n", 'coins = "70"\n'),
            r"^versions\[0\]\.coin_packs\[0\]\.coins: '70' is a string; expected an integer",
        ),
        (
            _edit("coins = 70\n", "coins = -70\n"),
            r"^versions\[0\]\.coin_packs\[0\]\.coins: -70 must be at least 1",
        ),
        (
            _edit('price = "0.74 USD"', 'price = "0.74"'),
            r"^versions\[0\]\.coin_packs\[0\]\.price: '0\.74' is not money; write it as '19\.99 USD'",
        ),
        (
            _edit('price = "0.74 USD"', "price = 0.74"),
            r"^versions\[0\]\.coin_packs\[0\]\.price: 0\.74 is a TOML float",
        ),
        (
            _edit('price = "0.74 USD"', 'price = "0.74 XYZ"'),
            r"^versions\[0\]\.coin_packs\[0\]\.price: 'XYZ' is not a known currency",
        ),
        (
            _edit('price = "0.74 USD"', 'price = "-0.74 USD"'),
            r"^versions\[0\]\.coin_packs\[0\]\.price: -0\.74 USD must be greater than 0",
        ),
        (
            _edit('price = "0.74 USD"', 'price = "0.745 USD"'),
            r"^versions\[0\]\.coin_packs\[0\]\.price: 0\.745 USD is not an exact amount",
        ),
        (
            _edit('1400 = "19.99"', '1400 = "19.999"'),
            r"^versions\[0\]\.ladders\.app\.packs\.1400\.price: 19\.999 USD is not an exact",
        ),
        (
            _edit('1400 = "19.99"', "1400 = 19.99"),
            r"^versions\[0\]\.ladders\.app\.packs\.1400: 19\.99 is a TOML float",
        ),
        (
            _edit('packs = { 70 = "0.99"', 'packs = { seventy = "0.99"'),
            r"^versions\[0\]\.ladders\.app\.packs\.seventy: the key must be a whole coin count",
        ),
        (
            _edit("sources = { 1400 =", "sources = { 1500 ="),
            r"^versions\[0\]\.ladders\.app\.sources\.1500: no 1500-coin pack",
        ),
        (
            _edit("Galaxy = 1000", "Galaxy = 0"),
            r"^versions\[0\]\.gifts\.Galaxy\.coins: 0 must be at least 1",
        ),
        (
            _edit("Galaxy = 1000", "Galaxy = 1000.0"),
            r"^versions\[0\]\.gifts\.Galaxy: 1000\.0 is a TOML float",
        ),
        (
            _edit('model = "diamond_value"', 'model = "diamonds"'),
            r"^versions\[0\]\.creator_pay\.model: 'diamonds' must be one of 'diamond_value', 'share_of_price'",
        ),
        (
            _edit('value_per_unit = "0.005 USD"', "value_per_unit = 0.005"),
            r"^versions\[0\]\.creator_pay\.value_per_unit: 0\.005 is a TOML float",
        ),
        (
            _edit('value_per_unit = "0.005 USD"', 'value_per_unit = "0.005 ZZZ"'),
            r"^versions\[0\]\.creator_pay\.value_currency: 'ZZZ' is not a known currency",
        ),
        (
            _edit('value_per_unit = "0.005 USD"\n', ""),
            r"^versions\[0\]\.creator_pay\.value_per_unit: 0 must be greater than 0",
        ),
        (
            _edit('minimum = "100 USD"', 'minimum = "-1 USD"'),
            r"^versions\[0\]\.withdrawal\.minimum: -1 USD must be at least 0",
        ),
        (
            _edit('minimum = "100 USD"', 'minimum = "2000 USD"'),
            r"^versions\[0\]\.withdrawal\.daily_cap: 1000 USD is below minimum 2000 USD",
        ),
        (
            _edit('methods = ["paypal"]', 'methods = "paypal"'),
            r"^versions\[0\]\.withdrawal\.methods: 'paypal' is a string; expected an array",
        ),
        (
            _edit('methods = ["paypal"]', 'method = ["paypal"]'),
            r"^versions\[0\]\.withdrawal\.method: unknown field; fields here: ",
        ),
        (
            _edit('region = "DE"', 'region = "Germany"'),
            r"^versions\[0\]\.taxes\[0\]\.region: 'Germany' must be an ISO 3166",
        ),
        (
            _edit('books_currency = "USD"', 'books_currency = "ZZZ"'),
            r"^books_currency: 'ZZZ' is not a known currency",
        ),
        (_edit('books_currency = "USD"\n', ""), r"^books_currency: missing \(required\)"),
        (_edit('name = "mini"\n', ""), r"^name: missing \(required\)"),
        (_edit('name = "mini"', "name = 7"), r"^name: 7 is an integer; expected a string$"),
        (_edit('title = "Mini"', 'titel = "Mini"'), r"^titel: unknown field"),
        (
            _edit("effective_from = 2024-07-01", "effective_from = 2023-07-01"),
            r"^versions\[1\]\.effective_from: 2023-07-01T00:00:00\+00:00 is not after versions\[0\]",
        ),
        (
            _edit("effective_from = 2024-01-01T00:00:00Z", "effective_from = 2024-01-01T00:00:00"),
            r"^versions\[0\]\.effective_from: 2024-01-01T00:00:00 has no UTC offset",
        ),
        (
            _edit("effective_from = 2024-01-01T00:00:00Z\n", ""),
            r"^versions\[0\]\.effective_from: missing \(required\)",
        ),
        (
            _edit("[versions.gifts]\nRose = 1\nGalaxy = 1000\n", ""),
            r"^versions\[0\]\.gifts: missing \(required\)",
        ),
        (
            _edit(
                'confidence = "official" }\n\n[[versions.store_fees]]',
                'confidence = "sure" }\n\n[[versions.store_fees]]',
            ),
            r"^versions\[0\]\.store_fees\[0\]\.source\.confidence: 'sure' must be one of",
        ),
        (
            _edit(
                'source = { citation = "Apple", confidence = "official" }',
                'source = { confidence = "official" }',
            ),
            r"^versions\[0\]\.store_fees\[0\]\.source\.citation: missing \(required\)",
        ),
        (
            _edit(
                'source = { citation = "Apple", confidence = "official" }',
                'source = { citation = "Apple", confidence = "official", as_of = "2024" }',
            ),
            r"^versions\[0\]\.store_fees\[0\]\.source\.as_of: '2024' must be a TOML date",
        ),
        ("name = ", r"^not valid TOML"),
        (
            MINIMAL.replace(
                '[[versions]]\neffective_from = 2024-07-01\n\n[versions.withdrawal]\nminimum = "50 USD"\n',
                "",
            )
            + '\n[sources]\n"versions[4].gifts" = { citation = "x", confidence = "code" }\n',
            r"sources\['versions\[4\]\.gifts'\]: no figure",
        ),
        ("format = 2\n" + MINIMAL, r"^format: 2 is not a format"),
    ],
)
def test_bad_field_names_its_path(text: str, message: str) -> None:
    with pytest.raises(gl.InvalidEconomy, match=message):
        Economy.from_toml(text)


def test_a_toml_float_is_also_float_not_allowed() -> None:
    with pytest.raises(gl.FloatNotAllowed, match=re.escape("versions[0].store_fees[0].rate")):
        Economy.from_toml(_edit('rate = "30%"', "rate = 0.3"))


def test_unsorted_versions_are_refused() -> None:
    text = _edit("effective_from = 2024-07-01", "effective_from = 2024-01-01T00:00:00Z")
    with pytest.raises(gl.InvalidEconomy, match=r"versions must be sorted"):
        Economy.from_toml(text)


VARIANTS = (
    MINIMAL
    + """
[variants.fee]
default = "standard"

[variants.fee.options.standard]
description = "30% on iOS"

[variants.fee.options.small]
description = "Apple's small-business rate"
assumptions = ["The platform is a small business."]
[variants.fee.options.small.all_versions]
store_fees = [
    { channel = "ios", rate = "15%", account = "apple", source = { citation = "Apple SBP", confidence = "official-press" } },
    { channel = "web", rate = "3%" },
]
"""
)


def test_variants_pick_options_and_record_them() -> None:
    standard = Economy.from_toml(VARIANTS)
    small = Economy.from_toml(VARIANTS, fee="small")
    assert standard.variant == {"fee": "standard"}
    assert small.variant == {"fee": "small"}
    assert standard.latest.store_fee("ios").rate == Fraction(3, 10)
    assert small.latest.store_fee("ios").rate == Fraction(15, 100)
    assert small.source_of("versions[1].store_fees[0].rate").citation == "Apple SBP"
    assert "The platform is a small business." in small.assumptions
    with pytest.raises(
        gl.UnknownRule, match=r"unknown option 'tiny' for variant 'fee'; options: standard, small"
    ):
        Economy.from_toml(VARIANTS, fee="tiny")
    with pytest.raises(gl.UnknownRule, match=r"unknown variant 'tax'.*variants: fee"):
        Economy.from_toml(VARIANTS, tax="none")


def test_full_path_sources_carry_over_to_later_versions() -> None:
    text = (
        MINIMAL
        + '\n[sources]\n"versions[0].taxes[0].rate" = { citation = "VAT list", confidence = "third-party" }\n'
    )
    econ = Economy.from_toml(text)
    assert econ.source_of("versions[0].taxes[0].rate").citation == "VAT list"
    assert econ.source_of("versions[1].taxes[0].rate").citation == "VAT list"
