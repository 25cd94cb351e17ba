"""Clients (the tenants) and their API users."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from ..errors import DomainError
from ..models import Client, User
from .audit import record_audit_event


def create_client(*, name: str, actor: User | None = None) -> Client:
    name = (name or "").strip()
    if not name:
        raise DomainError("A client needs a name.", field="name")
    slug = slugify(name)[:200] or "client"
    if Client.objects.filter(name__iexact=name).exists():
        raise DomainError(f"A client named {name!r} already exists.", field="name")
    base, n = slug, 2
    while Client.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    with transaction.atomic():
        client = Client.objects.create(name=name, slug=slug)
        record_audit_event(verb="client.created", actor=actor, target=client)
    return client


def create_client_user(
    *, client: Client, username: str, email: str = "", password: str | None = None, actor: User | None = None
) -> tuple[User, bool]:
    """Create (or find) an API user of one client. Returns (user, created)."""
    username = (username or "").strip()
    if not username:
        raise DomainError("A username is required.", field="username")
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        if existing.client_id != client.pk:
            raise DomainError(
                f"User {username!r} already exists and does not belong to client {client.name!r}.",
                field="username",
            )
        return existing, False
    with transaction.atomic():
        user = User(username=username, email=email, client=client, is_staff=False)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        record_audit_event(
            verb="client_user.created", actor=actor, target=user, metadata={"client_id": client.pk}
        )
    return user, True
