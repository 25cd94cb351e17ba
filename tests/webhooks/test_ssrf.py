"""Issue 19 point 5: endpoint URLs resolving to non-public addresses are refused at save and at
every delivery (unless AICMO_WEBHOOKS_ALLOW_PRIVATE), and plain http only where https is not required."""

from __future__ import annotations

import pytest
from django.db import transaction

from campaigns.events import emit_event
from tests.factories import ClientFactory
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import create_endpoint, update_endpoint
from webhooks.services.dispatch import dispatch
from webhooks.url_guard import UnsafeUrlError, check_url

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://localhost:8080/hook",  # resolves to 127.0.0.1 (and ::1)
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.5/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://169.254.10.10/hook",  # link-local
    "http://[fe80::1]/hook",
    "http://[fd12::1]/hook",  # unique local
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",  # reserved
]


@pytest.fixture
def strict(settings):
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = False
    return settings


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_addresses_are_refused_at_save(strict, url):
    with pytest.raises(UnsafeUrlError):
        create_endpoint(client=ClientFactory(), url=url, event_types=["lead.won"])


def test_a_name_resolving_to_127_0_0_1_is_refused_naming_the_address(strict):
    with pytest.raises(UnsafeUrlError) as refused:
        check_url("http://localhost/hook")
    assert "loopback" in refused.value.message and "localhost" in refused.value.message


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/"])
def test_metadata_addresses_are_refused_even_when_private_ones_are_allowed(settings, url):
    assert settings.AICMO_WEBHOOKS_ALLOW_PRIVATE
    with pytest.raises(UnsafeUrlError, match="metadata"):
        check_url(url)


def test_public_addresses_pass(strict):
    target = check_url("http://93.184.216.34:8443/in?token=abc")
    assert target.address == "93.184.216.34" and target.path == "/in?token=abc"
    assert target.host_header == "93.184.216.34:8443"


def test_https_is_required_unless_switched_off(settings):
    settings.AICMO_WEBHOOKS_REQUIRE_HTTPS = True
    with pytest.raises(UnsafeUrlError, match="https"):
        check_url("http://93.184.216.34/")
    assert check_url("https://93.184.216.34/").scheme == "https"


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/", "https://user:pw@93.184.216.34/", "https:///x", ""])
def test_malformed_urls_are_refused(url):
    with pytest.raises(UnsafeUrlError):
        check_url(url)


def test_a_change_of_url_is_checked_too(strict, settings):
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint, _ = create_endpoint(client=ClientFactory(), url="http://127.0.0.1:9/", event_types=["lead.won"])
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeUrlError):
        update_endpoint(endpoint=endpoint, url="http://localhost:9/")


def test_refused_at_delivery_when_the_address_is_no_longer_allowed(receiver, make_endpoint, settings):
    """The URL passed when it was saved; at delivery it is checked again and nothing is sent."""
    endpoint, _ = make_endpoint(receiver)
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = False
    with transaction.atomic():
        emit_event("lead.won", client=endpoint.client, data={"lead": {"id": 1, "email": "a@x.org"}})
    dispatch(budget_seconds=5)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and "loopback" in delivery.last_error
