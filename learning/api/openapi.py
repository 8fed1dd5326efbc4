"""The OpenAPI 3.1 description of /api/v1. Schemas are strict (no undeclared properties), and
the test suite validates every API answer it receives against them."""

from __future__ import annotations

import copy
from functools import lru_cache

DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "default": {"$ref": "#/components/responses/Error"},
}

SCHEMAS: dict = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "additionalProperties": False,
                "properties": {
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "UnitRef": {
        "type": "object",
        "required": ["id", "name"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "description": "Full name: Region / Akimat / Department."},
        },
    },
    "UserRef": {
        "type": "object",
        "required": ["id", "email", "name", "unit"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "unit": _ref("UnitRef"),
        },
    },
    "LanguageMap": {
        "type": "object",
        "description": "Text per language code (kk, ru, en).",
        "additionalProperties": {"type": "string"},
    },
    "Course": {
        "type": "object",
        "required": [
            "id",
            "slug",
            "title",
            "languages",
            "revision",
            "content_hash",
            "published_at",
            "validity_months",
            "is_archived",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "title": _ref("LanguageMap"),
            "languages": {"type": "array", "items": {"type": "string"}},
            "revision": {
                "type": "integer",
                "minimum": 1,
                "description": "The current revision's number.",
            },
            "content_hash": {"type": "string"},
            "published_at": DATE_TIME,
            "validity_months": {
                "type": ["integer", "null"],
                "description": "How long a completion stays valid; null: no expiry.",
            },
            "is_archived": {"type": "boolean"},
        },
    },
    "CourseList": {
        "type": "object",
        "required": ["courses"],
        "additionalProperties": False,
        "properties": {"courses": {"type": "array", "items": _ref("Course")}},
    },
    "Completion": {
        "type": "object",
        "description": "A completion record: proof that a person completed a course revision.",
        "required": [
            "id",
            "user",
            "course",
            "completed_at",
            "score",
            "expires_at",
            "status",
            "revoked_at",
            "certificate_code",
            "verify_url",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "user": _ref("UserRef"),
            "course": {
                "type": "object",
                "required": ["slug", "revision"],
                "additionalProperties": False,
                "properties": {"slug": {"type": "string"}, "revision": {"type": "integer"}},
            },
            "completed_at": DATE_TIME,
            "score": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
            "expires_at": NULLABLE_DATE_TIME,
            "status": {"type": "string", "enum": ["valid", "expired", "revoked"]},
            "revoked_at": NULLABLE_DATE_TIME,
            "certificate_code": {"type": "string"},
            "verify_url": {"type": "string", "format": "uri"},
        },
    },
    "CompletionPage": {
        "type": "object",
        "required": ["completions", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "completions": {"type": "array", "items": _ref("Completion")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
        },
    },
    "TranscriptCourse": {
        "type": "object",
        "required": [
            "course",
            "status",
            "is_assigned",
            "due_on",
            "enrolled_at",
            "percent_complete",
            "completed_at",
            "score",
            "expires_at",
            "attempts",
        ],
        "additionalProperties": False,
        "properties": {
            "course": {"type": "string", "description": "The course slug."},
            "status": {
                "type": "string",
                "enum": [
                    "completed",
                    "in_progress",
                    "not_started",
                    "overdue",
                    "expired",
                    "revoked",
                ],
            },
            "is_assigned": {"type": "boolean"},
            "due_on": {"type": ["string", "null"], "format": "date"},
            "enrolled_at": NULLABLE_DATE_TIME,
            "percent_complete": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            "completed_at": NULLABLE_DATE_TIME,
            "score": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
            "expires_at": NULLABLE_DATE_TIME,
            "attempts": {
                "type": "integer",
                "minimum": 0,
                "description": "Submitted quiz attempts.",
            },
        },
    },
    "Transcript": {
        "type": "object",
        "required": ["user", "courses", "records"],
        "additionalProperties": False,
        "properties": {
            "user": _ref("UserRef"),
            "courses": {"type": "array", "items": _ref("TranscriptCourse")},
            "records": {"type": "array", "items": _ref("Completion")},
        },
    },
    "XapiStatement": {
        "type": "object",
        "description": "An xAPI 1.0.3 statement as stored, with `stored` set by this LRS.",
        "required": ["id", "actor", "verb", "object", "timestamp", "stored", "version"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "actor": {"type": "object"},
            "verb": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "format": "iri"},
                    "display": _ref("LanguageMap"),
                },
            },
            "object": {"type": "object"},
            "result": {"type": "object"},
            "context": {"type": "object"},
            "timestamp": DATE_TIME,
            "stored": DATE_TIME,
            "authority": {"type": "object"},
            "version": {"type": "string"},
            "attachments": {"type": "array"},
        },
        "additionalProperties": False,
    },
    "StatementResult": {
        "type": "object",
        "description": "xAPI StatementResult.",
        "required": ["statements", "more"],
        "additionalProperties": False,
        "properties": {
            "statements": {"type": "array", "items": _ref("XapiStatement")},
            "more": {
                "type": "string",
                "description": "Relative URL of the next page, or an empty string on the last.",
            },
        },
    },
}


def _param(
    name: str, description: str, schema: dict, *, location: str = "query", required: bool = False
) -> dict:
    return {
        "name": name,
        "in": location,
        "required": required,
        "description": description,
        "schema": schema,
    }


PARAMETERS = {
    "cursor": _param(
        "cursor",
        "Opaque cursor from the previous page (`next_cursor` or `more`).",
        {"type": "string", "maxLength": 200},
    ),
}


def _document() -> dict:
    limit = lambda maximum, default: _param(  # noqa: E731
        "limit",
        "Items per page.",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kelisim HR API",
            "version": "1.0.0",
            "description": (
                "Read-only access for HR systems to courses, completion records, transcripts and "
                "the xAPI statement stream. Authenticate with `Authorization: Bearer <token>` "
                "(`flask api-tokens create EMAIL`); a token sees the units of its owner (hr or admin) "
                "and below. Unknown parameters, malformed values or cursors answer 400."
            ),
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "default": {"$ref": "#/components/responses/Error"},
                    },
                }
            },
            "/courses": {
                "get": {
                    "operationId": "listCourses",
                    "summary": "Published courses with their current revision.",
                    "responses": {"200": _json(_ref("CourseList"), "The courses."), **ERRORS},
                }
            },
            "/completions": {
                "get": {
                    "operationId": "listCompletions",
                    "summary": "Completion records of people in the token's units, oldest first.",
                    "parameters": [
                        _param(
                            "unit", "A unit id: that unit and its sub-units.", {"type": "integer"}
                        ),
                        _param("course", "A course slug.", {"type": "string"}),
                        _param(
                            "status",
                            "Only records with this status.",
                            {"type": "string", "enum": ["valid", "expired", "revoked"]},
                        ),
                        _param("since", "Only records completed at or after this time.", DATE_TIME),
                        {"$ref": "#/components/parameters/cursor"},
                        limit(1000, 100),
                    ],
                    "responses": {
                        "200": _json(_ref("CompletionPage"), "A page of completions."),
                        **ERRORS,
                    },
                }
            },
            "/users/{id}/transcript": {
                "get": {
                    "operationId": "getTranscript",
                    "summary": "A person's assigned and started courses and completion records.",
                    "parameters": [
                        _param(
                            "id",
                            "The user id.",
                            {"type": "integer"},
                            location="path",
                            required=True,
                        )
                    ],
                    "responses": {
                        "200": _json(_ref("Transcript"), "The transcript."),
                        "404": {"$ref": "#/components/responses/NotFound"},
                        **ERRORS,
                    },
                }
            },
            "/xapi/statements": {
                "get": {
                    "operationId": "listStatements",
                    "summary": "The xAPI statement stream of people in the token's units, in stored order.",
                    "parameters": [
                        _param(
                            "since",
                            "Only statements stored after this time (exclusive).",
                            DATE_TIME,
                        ),
                        _param(
                            "until",
                            "Only statements stored at or before this time (inclusive).",
                            DATE_TIME,
                        ),
                        {"$ref": "#/components/parameters/cursor"},
                        limit(500, 100),
                    ],
                    "responses": {
                        "200": _json(
                            _ref("StatementResult"),
                            "An xAPI StatementResult.",
                            headers={
                                "X-Experience-API-Version": {
                                    "schema": {"type": "string", "const": "1.0.3"}
                                }
                            },
                        ),
                        **ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `flask api-tokens create`.",
                }
            },
            "parameters": PARAMETERS,
            "schemas": SCHEMAS,
            "responses": {
                "BadRequest": _json(
                    _ref("Error"), "A parameter is unknown, repeated or malformed."
                ),
                "Unauthorized": _json(
                    _ref("Error"),
                    "The token is missing, unknown or revoked.",
                    headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
                ),
                "Forbidden": _json(_ref("Error"), "The token's owner may no longer use the API."),
                "NotFound": _json(_ref("Error"), "Not found within the token's units."),
                "Error": _json(_ref("Error"), "Any other error."),
            },
        },
    }


@lru_cache(maxsize=1)
def _cached() -> dict:
    return _document()


def openapi_document(base_url: str = "") -> dict:
    """The document (a fresh copy: callers may change it)."""
    document = copy.deepcopy(_cached())
    if base_url:
        document["servers"] = [{"url": base_url.rstrip("/") + "/api/v1"}]
    return document
