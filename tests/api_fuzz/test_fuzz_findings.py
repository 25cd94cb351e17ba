"""What the fuzzer found, each reproduced as one plain request whose answer must match the
schema (it did not before the fix). The OPTIONS 500 is covered path by path in
test_cross_client_ids.py."""

from __future__ import annotations

import pytest

from strategy.models import StrategyVariant, VariantState

from .test_fuzz_api import APP, schema


def _call(operation_path: str, method: str, world, **case_fields):
    operation = schema[operation_path][method]
    case = operation.Case(**case_fields)
    response = case.call(app=APP, headers={"Authorization": f"Token {world.token}"})
    return operation, response


@pytest.fixture
def client_a(fuzz_worlds, db, wsgi_in_test_transaction):
    return fuzz_worlds.client_a


def test_an_undecided_strategy_variant_has_a_null_decided_by(client_a):
    """decided_by (and a batch's created_by) may be null; the schema said string."""
    proposed = StrategyVariant.objects.filter(
        campaign=client_a.campaigns["awaiting_approval"], state=VariantState.PROPOSED
    ).first()
    operation, response = _call(
        "/api/v1/strategies/{id}/", "GET", client_a, path_parameters={"id": proposed.pk}
    )
    assert response.status_code == 200 and response.json()["decided_by"] is None
    operation.validate_response(response)


def test_an_operator_task_without_a_proof_link_has_an_empty_proof_url(client_a):
    """proof_url is "" until a task is done with a link; the schema said `format: uri`."""
    campaign = client_a.campaigns["active"]
    operation, response = _call(
        "/api/v1/campaigns/{campaign_id}/tasks/",
        "GET",
        client_a,
        path_parameters={"campaign_id": campaign.pk},
    )
    assert "" in {task["proof_url"] for task in response.json()["results"]}
    operation.validate_response(response)


def test_field_errors_match_the_documented_400(client_a):
    """A 400 with DRF's field errors ({"rationale": [...]}) did not match the documented error
    body, which required detail and code."""
    variant = StrategyVariant.objects.filter(
        campaign=client_a.campaigns["awaiting_approval"], state=VariantState.PROPOSED
    ).first()
    operation, response = _call(
        "/api/v1/strategies/{id}/reject/",
        "POST",
        client_a,
        path_parameters={"id": variant.pk},
        body={"rationale": "x" * 2001},
        media_type="application/json",
    )
    assert response.status_code == 400 and "rationale" in response.json()
    operation.validate_response(response)


def test_a_permission_error_matches_the_documented_403(client_a):
    """DRF's 403 carries `detail` only; the schema required `code` too."""
    campaign = client_a.campaigns["draft"]
    operation, response = _call(
        "/api/v1/campaigns/{campaign_id}/strategies/generate/",
        "POST",
        client_a,
        path_parameters={"campaign_id": campaign.pk},
        body={},
        media_type="application/json",
    )
    assert response.status_code == 403 and set(response.json()) == {"detail"}
    operation.validate_response(response)
