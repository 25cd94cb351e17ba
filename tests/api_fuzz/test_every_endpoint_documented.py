"""Every route under /api/v1/, with every method it answers, is in the OpenAPI schema, and the
schema documents nothing that is not routed."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

from .openapi import HTTP_METHODS, documented_operations, generated_schema, public_operations

API_PREFIX = "/api/v1/"


def _template(route: str) -> str:
    """A Django route or router regex as an OpenAPI path template (`pk` is spelled `id`)."""
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # named regex groups (routers)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)  # path converters
    return route.replace("{pk}", "{id}")


def _methods(pattern: URLPattern) -> set[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # a viewset route: the router bound these methods (HEAD rides along with GET)
        return {method.upper() for method in actions if method in HTTP_METHODS}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return {method.upper() for method in HTTP_METHODS if hasattr(view_class, method)}


def routed_api_operations() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                path = "/" + _template(route)
                if path.startswith(API_PREFIX):
                    found.update((method, path) for method in _methods(entry))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_route_and_method_is_documented():
    routed = routed_api_operations()
    documented = {(m, p) for m, p in documented_operations(generated_schema()) if p.startswith(API_PREFIX)}
    assert len(routed) >= 40  # the walk found the API (not an empty URLconf)
    assert sorted(routed - documented) == [], "routed but not in the schema"
    assert sorted(documented - routed) == [], "in the schema but not routed"


def test_every_operation_has_a_description_and_a_success_response():
    schema = generated_schema()
    public = public_operations(schema)  # the token endpoint: docs/SECURITY.md "Public endpoints"
    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            if not any(code.startswith("2") for code in operation.get("responses", {})):
                missing.append(f"{method.upper()} {path}: no 2xx response")
            if (method.upper(), path) in public:
                continue
            if "tokenAuth" not in {name for req in operation.get("security", []) for name in req}:
                missing.append(f"{method.upper()} {path}: token auth not documented")
    assert missing == []
