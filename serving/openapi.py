"""The OpenAPI document says every answer an operation can give, so that schema-driven clients
(and schemathesis' checks) agree with the service.

FastAPI documents what each route declares; the answers that come from the layers around the
routes are added here, operation by operation, from what the route depends on:

- 401 where a bearer token is required or may be sent (a bad one is refused), 403 where a role
  is required; the security requirement made optional (`[{}, {"HTTPBearer": []}]`) where a token
  is optional (predictions);
- 413 on every operation with a body (serving.limits), 422 on every operation (serving.inputs
  refuses control characters anywhere in the URL), 503 with Retry-After on every operation but
  the liveness probe (serving.capacity);
- 400 on every operation with a body (FastAPI's answer to one it cannot parse);
- the error body: `{"detail": "…"}`, or FastAPI's validation shape for a 422;
- the text rule of serving.inputs stated in the schemas: every free-text string (and every
  object key) excludes control characters, as a `pattern` (tab, LF and CR are allowed in
  bodies, not in paths and query strings).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from serving.auth import current_claims, optional_claims

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION = {"$ref": "#/components/schemas/HTTPValidationError"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
TEXT = "^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # bodies: tab, LF, CR allowed
URL_TEXT = "^[^\x00-\x1f\x7f]*$"  # paths and query strings
WHY = {
    400: "the body could not be parsed",
    401: "no token, or a token that is invalid, expired or revoked",
    403: "signed in without the role this needs",
    413: "the request body is over the limit (1 MiB; 8 MiB for an election's roll)",
    422: "a parameter or the body is not valid (the error's `loc` says where)",
    429: "too many attempts: wait for Retry-After",
    503: "the service is at capacity or its database busy: retry after Retry-After",
}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _answer(code: int, description: str | None = None) -> dict[str, Any]:
    schema = VALIDATION if code == 422 else ERROR
    answer: dict[str, Any] = {
        "description": description or WHY.get(code, "refused"),
        "content": {"application/json": {"schema": schema}},
    }
    if code in (429, 503):
        answer["headers"] = RETRY_AFTER
    return answer


def _complete(operation: dict[str, Any], route: APIRoute) -> None:
    calls = list(_calls(route.dependant))
    required = current_claims in calls or any(getattr(c, "voter", False) for c in calls)
    optional = optional_claims in calls and not required
    responses = operation.setdefault("responses", {})

    def add(code: int) -> None:
        responses.setdefault(str(code), _answer(code))

    if required or optional:
        add(401)
    if optional:
        operation["security"] = [{}, *operation.get("security", [])]
    if any(getattr(c, "roles", None) for c in calls):
        add(403)
    if "requestBody" in operation:
        add(400)
        add(413)
        for media in operation["requestBody"].get("content", {}).values():
            _textual(media.get("schema", {}), TEXT)
    for parameter in operation.get("parameters", []):
        _textual(parameter.get("schema", {}), URL_TEXT)
    add(422)
    add(503)
    for code, answer in responses.items():  # a declared error with no body: ours
        if code.isdigit() and int(code) >= 400 and "content" not in answer:
            answer["content"] = _answer(int(code), answer.get("description"))["content"]
            if int(code) in (429, 503):
                answer.setdefault("headers", RETRY_AFTER)


def _textual(schema: Any, pattern: str) -> None:
    """Give every free-text string in `schema` (no pattern, format or enum of its own) the
    no-control-characters pattern, and every object's keys the same rule."""
    if isinstance(schema, list):
        for item in schema:
            _textual(item, pattern)
        return
    if not isinstance(schema, dict):
        return
    free = not ({"pattern", "format", "enum", "const", "$ref"} & schema.keys())
    if schema.get("type") == "string" and free:
        schema["pattern"] = pattern
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        schema.setdefault("propertyNames", {"pattern": pattern})
    for key in ("properties", "patternProperties", "$defs"):
        for sub in schema.get(key, {}).values():
            _textual(sub, pattern)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not"):
        if key in schema:
            _textual(schema[key], pattern)


def install(app: FastAPI) -> None:
    """Make `app.openapi()` build the completed document (once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
            "title": "Error",
        }
        schemas.setdefault("HTTPValidationError", _validation_schema())
        schemas.setdefault("ValidationError", _validation_item())
        for name, schema in schemas.items():
            if name not in ("Error", "HTTPValidationError", "ValidationError"):
                _textual(schema, TEXT)
        for route in app.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods:
                operation = document["paths"][route.path_format].get(method.lower())
                if operation is not None and route.path_format != "/health":
                    _complete(operation, route)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _validation_item() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["loc", "msg", "type"],
        "title": "ValidationError",
    }


def _validation_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        },
        "title": "HTTPValidationError",
    }
