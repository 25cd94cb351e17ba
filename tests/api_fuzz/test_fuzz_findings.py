"""What the fuzzer found, each reproduced as one plain request whose answer must match the
schema (it did not before the fix). The OPTIONS 500 is covered path by path in
test_cross_client_ids.py."""

from __future__ import annotations

import pytest

from outreach.models import MetricEntry
from strategy.models import StrategyVariant, VariantState
from tests.factories import token_for

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
    # The permission layer's 403 names its code and action too (campaigns.permissions).
    assert response.status_code == 403 and response.json()["code"] == "action_not_permitted"
    operation.validate_response(response)


def test_a_metric_count_beyond_the_column_is_a_400_not_a_500(fuzz_worlds, db, wsgi_in_test_transaction):
    """Staff recording impressions=1332792427842115 got a 500 on PostgreSQL (integer out of range)."""
    operator = fuzz_worlds.operator
    task = fuzz_worlds.client_a.first("operator_task")
    operation = schema["/api/v1/tasks/{id}/metrics/"]["POST"]
    case = operation.Case(
        path_parameters={"id": task}, body={"impressions": 1332792427842115}, media_type="application/json"
    )
    response = case.call(app=APP, headers={"Authorization": f"Token {token_for(operator)}"})
    assert response.status_code == 400 and "impressions" in response.json()
    assert not MetricEntry.objects.filter(task_id=task, impressions__gt=1000).exists()
