"""Operator-task rows for selector and beat tests (the generation path is tested through services)."""

from __future__ import annotations

import factory
from django.utils import timezone

from outreach.models import OperatorTask, OperatorTaskType
from outreach.sop_library import get_sop
from tests.factories import CampaignFactory


class OperatorTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperatorTask

    campaign = factory.SubFactory(CampaignFactory)
    task_type = OperatorTaskType.POST
    platform = "linkedin"
    content_type = "text post"
    title = factory.Sequence(lambda n: f"Publish a LinkedIn post {n}")
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")
    sop_key = "linkedin:post"
    sop_version = factory.LazyFunction(lambda: get_sop("linkedin").version)
    instructions = factory.LazyFunction(lambda: get_sop("linkedin").as_dict())
    creative_snapshot = factory.LazyFunction(lambda: {"body": "Approved post text", "hashtags": ["#ops"]})
    due_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
