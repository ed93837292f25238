"""Statements and explanations as JSON: valid against the shipped schema, exact, round-tripping."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import giftledger as gl
from giftledger.testing import chain_scenarios, run_chain

from .test_statements_i18n import _busy


def _no_floats(value: Any, path: str = "$") -> None:
    assert not isinstance(value, float), path
    if isinstance(value, dict):
        for k, v in value.items():
            _no_floats(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_floats(v, f"{path}[{i}]")


def _validate(doc: dict[str, Any], kind: str) -> None:
    schema = gl.report_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)
    _no_floats(json.loads(json.dumps(doc)))


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "ja_JP"])
def test_statement_json_validates_and_round_trips(locale: str) -> None:
    _, app = _busy()
    st_ = app.statement("bob", locale=locale)
    doc = json.loads(st_.to_json())
    assert doc["schema_version"] == gl.REPORT_SCHEMA_VERSION == 1
    _validate(doc, "statement")
    assert gl.Statement.from_json(st_.to_json()) == st_
    assert gl.Statement.from_dict(doc).render() == st_.render()
    paid = next(x for x in doc["lines"] if x["kind"] == "withdrawal paid")
    assert paid["paid_out"] == {"amount": "1222.21", "currency": "USD"}
    gift = doc["lines"][0]
    assert gift["units"] == {"amount": "250000", "currency": "DIAMOND"}


def test_explanation_json_validates_and_round_trips() -> None:
    _, app = _busy()
    ex = app.explain("bob", locale="fr_FR")
    doc = ex.to_dict()
    _validate(doc, "explanation")
    assert gl.Explanation.from_json(ex.to_json()) == ex
    assert doc["paid_out"] == {"amount": "1222.21", "currency": "USD"}
    assert doc["receipt"]["steps"][-1]["total"]["label"] == "Versé sur le compte bancaire"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reports_of_random_chains_validate_and_round_trip(data: st.DataObject) -> None:
    econ = gl.presets.load(data.draw(st.sampled_from(["tiktok-live", "youtube-super-chat"])))
    scenario = data.draw(chain_scenarios(econ, max_operations=20))
    with run_chain(econ, scenario) as run:
        for creator in run.creators:
            ex = run.app.explain(creator.name)
            _validate(ex.to_dict(), "explanation")
            assert gl.Explanation.from_json(ex.to_json()) == ex
            stmt = run.app.statement(creator.name, locale="es_ES")
            _validate(stmt.to_dict(), "statement")
            assert gl.Statement.from_json(stmt.to_json()) == stmt


def test_a_document_of_another_kind_or_version_or_with_a_float_is_refused() -> None:
    _, app = _busy()
    doc = app.statement("bob").to_dict()
    with pytest.raises(gl.InvalidArgument, match="not a explanation document"):
        gl.Explanation.from_dict(doc)
    with pytest.raises(gl.InvalidArgument, match="schema_version 2"):
        gl.Statement.from_dict({**doc, "schema_version": 2})
    bad = json.loads(json.dumps(doc))
    bad["lines"][0]["amount"]["amount"] = 5.0
    with pytest.raises(gl.InvalidArgument, match=r"lines\[0\]\.amount"):
        gl.Statement.from_dict(bad)
    with pytest.raises(gl.InvalidArgument, match="does not parse"):
        gl.Statement.from_json("{")
    with pytest.raises(gl.InvalidArgument):
        gl.report_schema("balances")
