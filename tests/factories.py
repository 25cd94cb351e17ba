"""factory-boy factories shared by every test package."""

from __future__ import annotations

import factory
from rest_framework.authtoken.models import Token

from campaigns.models import Campaign, Client, User


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    slug = factory.Sequence(lambda n: f"client-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True
    username = factory.Sequence(lambda n: f"operator{n}")


class ClientUserFactory(UserFactory):
    client = factory.SubFactory(ClientFactory)
    username = factory.Sequence(lambda n: f"client-user{n}")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    type = "lead_gen"
    objective = "Book discovery calls"
    channels = factory.LazyFunction(lambda: ["email"])


def token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key
