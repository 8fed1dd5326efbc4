"""Tests for learning.progress.xapi (xAPI 1.0.3 validation and builders)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from learning.progress.xapi import (
    VERBS,
    build_statement,
    iso_duration,
    validate_activity,
    validate_result,
    validate_statement,
)

ADL_DIR = Path(__file__).resolve().parents[3] / "shared/testdata/xapi-adl"
NEGATIVE = {"statements_no_actor.json", "statements_no_object.json", "statements_no_verb.json"}


def _load(name: str) -> list[dict]:
    data = json.loads((ADL_DIR / name).read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def _files(prefix: str) -> list[str]:
    if not ADL_DIR.is_dir():
        pytest.skip(f"ADL samples not found at {ADL_DIR}")
    return sorted(p.name for p in ADL_DIR.glob(f"{prefix}*.json"))


BASE = {
    "actor": {"objectType": "Agent", "name": "Test", "mbox": "mailto:test@example.kz"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
    "object": {"objectType": "Activity", "id": "https://kelisim.example.kz/courses/1"},
}


def _stmt(**changes: object) -> dict:
    stmt = copy.deepcopy(BASE)
    stmt.update(changes)
    return stmt


# --------------------------------------------------------------------------- #
# ADL conformance samples
# --------------------------------------------------------------------------- #


def test_adl_sample_directory_is_complete() -> None:
    names = set(_files(""))
    assert NEGATIVE <= names
    assert len(names) >= 17


@pytest.mark.parametrize("name", _files("statements_") if ADL_DIR.is_dir() else [])
def test_adl_statement_samples(name: str) -> None:
    for stmt in _load(name):
        errors = validate_statement(stmt)
        if name in NEGATIVE:
            assert errors, f"{name} must be rejected"
        else:
            assert errors == [], f"{name}: {errors}"


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_adl_negative_samples_name_missing_property(name: str) -> None:
    if not ADL_DIR.is_dir():
        pytest.skip("ADL samples missing")
    missing = name.removeprefix("statements_no_").removesuffix(".json")
    (stmt,) = _load(name)
    errors = validate_statement(stmt)
    assert any(f"missing required property {missing!r}" in e for e in errors), errors


@pytest.mark.parametrize("name", _files("activities_") if ADL_DIR.is_dir() else [])
def test_adl_activity_samples_as_statement_objects(name: str) -> None:
    for activity in _load(name):
        assert validate_activity(activity) == []
        assert validate_statement(_stmt(object=activity)) == []


@pytest.mark.parametrize("name", _files("results_") if ADL_DIR.is_dir() else [])
def test_adl_result_samples_in_statement(name: str) -> None:
    for result in _load(name):
        assert validate_result(result) == []
        assert validate_statement(_stmt(result=result)) == []


# --------------------------------------------------------------------------- #
# Positive cases beyond the samples
# --------------------------------------------------------------------------- #


def test_full_statement_is_valid() -> None:
    stmt = _stmt(
        id="8f87ccde-bb56-4c2e-ab83-44982ef22df0",
        actor={
            "objectType": "Agent",
            "account": {"homePage": "https://kelisim.example.kz", "name": "u42"},
        },
        result={
            "score": {"scaled": -0.5, "raw": 10, "min": 0, "max": 20},
            "success": False,
            "completion": True,
            "duration": "P1DT2H3M4.25S",
        },
        context={
            "registration": "0d3fc1a4-6a29-4b4e-9cde-2f4fcb7bdb55",
            "instructor": {"mbox_sha1sum": "a" * 40},
            "team": {"objectType": "Group", "member": [{"openid": "https://id.example/1"}]},
            "contextActivities": {
                "parent": {"id": "https://kelisim.example.kz/courses/1"},
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}],
            },
            "revision": "3",
            "platform": "Kelisim",
            "language": "kk-KZ",
            "statement": {
                "objectType": "StatementRef",
                "id": "0d3fc1a4-6a29-4b4e-9cde-2f4fcb7bdb55",
            },
            "extensions": {"https://kelisim.example.kz/ext/x": {"any": ["json"]}},
        },
        timestamp="2025-03-01T10:20:30.123+05:00",
        stored="2025-03-01T05:20:31Z",
        version="1.0.3",
        attachments=[
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "Signature"},
                "contentType": "application/octet-stream",
                "length": 4235,
                "sha2": "b" * 64,
            }
        ],
        authority={"objectType": "Agent", "mbox": "mailto:lrs@example.kz"},
    )
    assert validate_statement(stmt) == []


def test_group_actor_and_agent_object_and_substatement_are_valid() -> None:
    stmt = _stmt(
        actor={
            "objectType": "Group",
            "name": "Cohort",
            "account": {"homePage": "https://kelisim.example.kz", "name": "g1"},
            "member": [{"mbox": "mailto:a@example.kz"}],
        }
    )
    assert validate_statement(stmt) == []
    assert validate_statement(_stmt(object={"objectType": "Agent", "mbox": "mailto:b@x.kz"})) == []
    sub = {
        "objectType": "SubStatement",
        "actor": BASE["actor"],
        "verb": BASE["verb"],
        "object": BASE["object"],
        "timestamp": "2025-03-01T10:20:30Z",
    }
    assert validate_statement(_stmt(object=sub)) == []


# --------------------------------------------------------------------------- #
# Negative cases
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"actor": {"mbox": "test@example.kz"}}, "mbox"),  # no mailto:
        ({"actor": {"mbox": "mailto:not-an-email"}}, "mbox"),
        ({"actor": {"mbox": "mailto:a@"}}, "mbox"),
        ({"actor": {"mbox": "mailto:a b@x.kz"}}, "mbox"),
        (
            {"actor": {"mbox": "mailto:a@example.kz", "openid": "https://id.example/a"}},
            "exactly one inverse functional identifier",
        ),
        ({"actor": {"name": "No IFI"}}, "exactly one inverse functional identifier"),
        ({"actor": {"mbox_sha1sum": "xyz"}}, "SHA-1"),
        ({"actor": {"account": {"homePage": "https://x.kz"}}}, "'name'"),
        ({"actor": {"objectType": "Group"}}, "anonymous Group"),
        (
            {"actor": {"objectType": "Group", "member": [{"objectType": "Group", "member": []}]}},
            "must be 'Agent'",
        ),
        ({"verb": {"id": "attempted", "display": {"en-US": "attempted"}}}, "IRI"),
        ({"verb": {"id": "http://x.kz/verbs/did it", "display": {}}}, "IRI"),
        ({"verb": {"id": "http://x.kz/v", "display": {"not a tag": "x"}}}, "language tag"),
        ({"verb": {"id": "http://x.kz/v", "display": {"en-US": 5}}}, "must be a string"),
        ({"verb": {"display": {"en-US": "x"}}}, "'id'"),
        ({"object": {"objectType": "Activity"}}, "'id'"),
        ({"object": {"id": "not an iri"}}, "IRI"),
        ({"object": {"objectType": "Course", "id": "http://x.kz/c"}}, "unknown objectType"),
        ({"object": {"mbox": "mailto:a@x.kz", "objectType": "Agent", "extra": 1}}, "unknown"),
        ({"object": {"objectType": "StatementRef", "id": "12345"}}, "UUID"),
        (
            {"object": {"id": "http://x.kz/a", "definition": {"interactionType": "essay"}}},
            "interaction type",
        ),
        (
            {
                "object": {
                    "id": "http://x.kz/a",
                    "definition": {"interactionType": "true-false", "choices": []},
                }
            },
            "not allowed",
        ),
        ({"id": "not-a-uuid"}, "UUID"),
        ({"result": {"score": {"scaled": 1.5}}}, "between -1 and 1"),
        ({"result": {"score": {"scaled": -1.01}}}, "between -1 and 1"),
        ({"result": {"score": {"raw": 120, "min": 0, "max": 100}}}, "greater than 'max'"),
        ({"result": {"score": {"raw": -1, "min": 0}}}, "less than 'min'"),
        ({"result": {"score": {"min": 10, "max": 10}}}, "greater than 'min'"),
        ({"result": {"score": {"scaled": "0.5"}}}, "number"),
        ({"result": {"success": "yes"}}, "boolean"),
        ({"result": {"completion": 1}}, "boolean"),
        ({"result": {"duration": "1 hour"}}, "duration"),
        ({"result": {"duration": "PT"}}, "duration"),
        ({"result": {"duration": "P1DT"}}, "duration"),
        ({"result": {"duration": "PT1.5H30M"}}, "duration"),
        ({"result": {"duration": "P0000-00-01T00:00:00"}}, "duration"),
        ({"result": {"extensions": {"notiri": 1}}}, "IRI"),
        ({"context": {"registration": "abc"}}, "UUID"),
        ({"context": {"contextActivities": {"sibling": []}}}, "unknown property"),
        ({"context": {"language": "english please"}}, "language tag"),
        ({"timestamp": "01/03/2025 10:00"}, "timestamp"),
        ({"timestamp": "2025-02-30T10:00:00Z"}, "timestamp"),
        ({"timestamp": "2025-03-01T10:00:00-00:00"}, "timestamp"),
        ({"version": "2.0.0"}, "version"),
        ({"attachments": [{"usageType": "http://x.kz/u"}]}, "missing required property"),
        ({"authority": {"objectType": "Group", "member": [{"mbox": "mailto:a@x.kz"}]}}, "two"),
        ({"verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}}, "StatementRef"),
        ({"objectType": "Statement"}, "unknown property 'objectType'"),
        ({"inventedProperty": True}, "unknown property 'inventedProperty'"),
    ],
)
def test_invalid_statements_are_rejected(changes: dict, fragment: str) -> None:
    errors = validate_statement(_stmt(**changes))
    assert errors, f"expected a violation for {changes}"
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize(
    "mbox", ["mailto:user.name+tag@example.kz", "mailto:admin@localhost", "mailto:ә@пример.kz"]
)
def test_valid_mbox_forms(mbox: str) -> None:
    assert validate_statement(_stmt(actor={"mbox": mbox})) == []


def test_platform_not_allowed_when_object_is_agent() -> None:
    stmt = _stmt(
        object={"objectType": "Agent", "mbox": "mailto:b@x.kz"},
        context={"platform": "Kelisim"},
    )
    assert any("only allowed when the object is an Activity" in e for e in validate_statement(stmt))


def test_substatement_rules() -> None:
    sub = {"objectType": "SubStatement", "actor": BASE["actor"], "verb": BASE["verb"]}
    assert any("'object'" in e for e in validate_statement(_stmt(object=sub)))
    nested = dict(sub, object=dict(sub, object=BASE["object"]))
    errors = validate_statement(_stmt(object=nested))
    assert any("must not contain a SubStatement" in e for e in errors)
    with_id = dict(sub, object=BASE["object"], id="8f87ccde-bb56-4c2e-ab83-44982ef22df0")
    assert any("unknown property 'id'" in e for e in validate_statement(_stmt(object=with_id)))


def test_non_object_statement_is_rejected() -> None:
    assert validate_statement([])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# Builders
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0, "PT0S"),
        (3.5, "PT3.5S"),
        (59.999, "PT1M"),
        (60, "PT1M"),
        (3723.5, "PT1H2M3.5S"),
        (3600, "PT1H"),
        (90061.25, "PT25H1M1.25S"),
        (0.004, "PT0S"),
        (12.34, "PT12.34S"),
    ],
)
def test_iso_duration(seconds: float, expected: str) -> None:
    assert iso_duration(seconds) == expected
    assert validate_result({"duration": expected}) == []


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_iso_duration_rejects_bad_input(bad: float) -> None:
    with pytest.raises(ValueError):
        iso_duration(bad)


def test_verbs_vocabulary() -> None:
    assert set(VERBS) == {
        "experienced",
        "attempted",
        "answered",
        "passed",
        "failed",
        "completed",
        "registered",
        "voided",
    }
    for name, verb in VERBS.items():
        assert verb["id"] == f"http://adlnet.gov/expapi/verbs/{name}"
        assert verb["display"] == {"en-US": name}


def _build(verb: str, **extra: object) -> dict:
    kwargs: dict = dict(
        statement_id="5B1F2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
        verb=verb,
        actor_email="aliya@example.kz",
        actor_name="Әлия Құрманғазықызы",
        base_url="https://kelisim.example.kz/",
        object_path="/courses/7/lessons/3",
        object_name={"kk": "Сабақ 3", "ru": "Урок 3"},
        timestamp=datetime(2025, 3, 1, 15, 4, 5, 678900, tzinfo=timezone(timedelta(hours=5))),
    )
    kwargs.update(extra)
    return build_statement(**kwargs)


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_built_statement_is_valid_for_each_verb(verb: str) -> None:
    extra: dict = {
        "context_registration": "0d3fc1a4-6a29-4b4e-9cde-2f4fcb7bdb55",
        "parent_path": "/courses/7",
    }
    if verb == "voided":
        extra["voided_statement_id"] = "8f87ccde-bb56-4c2e-ab83-44982ef22df0"
    if verb in {"passed", "failed", "answered", "completed"}:
        extra["result"] = {
            "score": {"scaled": 0.85, "raw": 17, "min": 0, "max": 20},
            "success": verb != "failed",
            "completion": True,
            "duration": iso_duration(3723.5),
        }
    stmt = _build(verb, **extra)
    assert validate_statement(stmt) == []
    assert stmt["verb"] == VERBS[verb]
    assert stmt["version"] == "1.0.3"
    assert stmt["id"] == "5b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    assert stmt["actor"] == {
        "objectType": "Agent",
        "name": "Әлия Құрманғазықызы",
        "mbox": "mailto:aliya@example.kz",
    }
    assert stmt["timestamp"] == "2025-03-01T10:04:05.678Z"
    if verb == "voided":
        assert stmt["object"] == {
            "objectType": "StatementRef",
            "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0",
        }
    else:
        assert stmt["object"]["id"] == "https://kelisim.example.kz/courses/7/lessons/3"
        assert stmt["object"]["definition"]["name"] == {"kk": "Сабақ 3", "ru": "Урок 3"}
    assert stmt["context"]["contextActivities"]["parent"][0]["id"] == (
        "https://kelisim.example.kz/courses/7"
    )


def test_build_statement_minimal_has_no_context_and_naive_time_is_utc() -> None:
    stmt = _build("experienced", timestamp=datetime(2025, 1, 2, 3, 4, 5))
    assert "context" not in stmt and "result" not in stmt
    assert stmt["timestamp"] == "2025-01-02T03:04:05.000Z"


def test_build_statement_does_not_alias_inputs() -> None:
    result = {"score": {"scaled": 0.5}}
    stmt = _build("passed", result=result)
    stmt["result"]["score"]["scaled"] = 0.9
    stmt["verb"]["display"]["en-US"] = "changed"
    assert result == {"score": {"scaled": 0.5}}
    assert VERBS["passed"]["display"] == {"en-US": "passed"}


@pytest.mark.parametrize(
    "extra",
    [
        {"verb": "liked"},
        {"verb": "voided"},  # no voided_statement_id
        {"result": {"score": {"scaled": 2}}},
        {"actor_email": "not-an-email"},
        {"statement_id": "123"},
        {"context_registration": "nope"},
    ],
)
def test_build_statement_rejects_invalid_input(extra: dict) -> None:
    with pytest.raises(ValueError):
        _build(extra.pop("verb", "attempted"), **extra)
