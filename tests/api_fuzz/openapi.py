"""The OpenAPI schema the API serves at /api/schema/, generated in-process."""

from __future__ import annotations

import json

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def generated_schema() -> dict:
    """What drf-spectacular serves, as plain JSON data (the same generator and renderer)."""
    data = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(data, renderer_context={}))


def documented_operations(schema: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def public_operations(schema: dict) -> set[tuple[str, str]]:
    """Operations that take no authentication (``security: [{}]``): docs/SECURITY.md lists them
    under "Public endpoints" (tests/security/test_api_onboarding.py holds the two together)."""
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS and operation.get("security") == [{}]
    }
