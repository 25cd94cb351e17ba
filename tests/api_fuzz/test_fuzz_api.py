"""Schemathesis against the drf-spectacular schema, in-process through the WSGI app, with the
tokens of two clients' users (A and B, taking turns).

For every operation and every generated request (valid and invalid): no 5xx, the answer
conforms to the schema, and nothing in it belongs to the other client. Path parameters, the
``campaign`` / ``lead`` filters and id fields in bodies are drawn partly from both clients' real
ids, so the fuzzer reaches real objects (its own: the bodies are exercised; the other client's:
must be a 404 or a 400, never data).

Reproducible: a fixed seed and derandomized generation. See docs/API-FUZZING.md.
"""

from __future__ import annotations

import itertools
import os

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.factories import token_for

from .leaks import foreign_references
from .openapi import generated_schema
from .world import ClientWorld

SEED = 20260302

APP = get_wsgi_application()


# The suite's budget (~1 minute per database on a busy 2-core machine): MAX_EXAMPLES random cases,
# valid and invalid, per operation. AICMO_API_FUZZ_THOROUGH=1 adds schemathesis' coverage phase
# (every boundary and every invalid value the schema allows one to derive, plus unexpected
# methods) and 10x the random cases, for a longer run by hand (docs/API-FUZZING.md).
THOROUGH = os.environ.get("AICMO_API_FUZZ_THOROUGH", "") not in ("", "0")
MAX_EXAMPLES = 100 if THOROUGH else 10
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
        "phases": {
            "stateful": {"enabled": False},
            "coverage": {"enabled": THOROUGH},
        },
    }
)
schema = schemathesis.openapi.from_dict(generated_schema(), config=CONFIG)

# Real ids the hooks mix into generated requests, per table; filled by the `known_ids` fixture.
KNOWN_IDS: dict[str, list[int]] = {}

PATH_ID_TABLES = {
    "campaigns": "campaign",
    "creatives": "creative",
    "strategies": "strategy_variant",
    "tasks": "operator_task",
    "leads": "lead",
}
BODY_AND_QUERY_ID_TABLES = {"campaign": "campaign", "lead": "lead", "client": "client"}


def _table_of_path_parameter(path: str, name: str) -> str | None:
    if name == "campaign_id":
        return "campaign"
    segments = path.strip("/").split("/")
    placeholder = "{" + name + "}"
    if placeholder in segments:
        before = segments[segments.index(placeholder) - 1]
        return PATH_ID_TABLES.get(before)
    return None


def _real_or_generated(value, table: str | None):
    ids = KNOWN_IDS.get(table or "", [])
    if not ids:
        return st.just(value)
    return st.one_of(st.just(value), st.sampled_from(ids))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    path = context.operation.path
    drawn = {
        name: _real_or_generated(value, _table_of_path_parameter(path, name))
        for name, value in path_parameters.items()
    }
    return st.fixed_dictionaries(drawn)


@schema.hook
def flatmap_query(context, query):
    if not isinstance(query, dict):
        return st.just(query)
    drawn = {
        name: _real_or_generated(value, BODY_AND_QUERY_ID_TABLES.get(name)) for name, value in query.items()
    }
    return st.fixed_dictionaries(drawn)


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict) or not (set(body) & set(BODY_AND_QUERY_ID_TABLES)):
        return st.just(body)
    drawn = {
        name: _real_or_generated(value, BODY_AND_QUERY_ID_TABLES.get(name)) for name, value in body.items()
    }
    return st.fixed_dictionaries(drawn)


CALLER_TURNS = itertools.count()

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def _call_and_check(case, token: str, caller: str, other: ClientWorld | None) -> None:
    headers = {"Authorization": f"Token {token}"}
    response = case.call(app=APP, headers=headers)
    case.validate_response(
        response, checks=CHECKS, headers=headers, transport_kwargs={"app": APP, "headers": headers}
    )
    if other is None:  # agency staff see every client
        return
    text = response.content.decode(response.encoding or "utf-8", errors="replace")
    leaks = foreign_references(text=text, method=case.method, path=case.path, other=other)
    assert not leaks, (
        f"{case.method} {case.formatted_path} as {caller} answered {response.status_code} "
        f"with {other.marker}'s data:\n" + "\n".join(leaks)
    )


@pytest.fixture
def known_ids(fuzz_worlds):
    for world in (fuzz_worlds.client_a, fuzz_worlds.client_b):
        for table, ids in world.ids.items():
            KNOWN_IDS[table] = sorted(set(KNOWN_IDS.get(table, ())) | ids)
    yield fuzz_worlds
    KNOWN_IDS.clear()


@schema.parametrize()
@SETTINGS
def test_fuzz_every_operation(case, known_ids, db, wsgi_in_test_transaction):
    """Generated requests take turns between client A's user, client B's user and agency staff
    (deterministically: the cases are derandomized), so each operation is fuzzed as all three
    within one budget. Staff reach the bodies of staff-only endpoints (generation, edits, task
    work, outcomes) that clients are refused before validation; they see every client, so only
    client users' answers are searched for the other client's data."""
    a, b = known_ids.client_a, known_ids.client_b
    turn = next(CALLER_TURNS) % 3
    if turn == 0:
        _call_and_check(case, a.token, a.marker, other=b)
    elif turn == 1:
        _call_and_check(case, b.token, b.marker, other=a)
    else:
        _call_and_check(case, token_for(known_ids.operator), "staff", other=None)
