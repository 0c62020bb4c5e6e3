"""The OpenAPI 3.1 document, built from an application's operations and their attrs classes:
the core's and the enabled plugins' (a disabled plugin's paths are absent)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from host_flask.api.framework import Operation
from host_flask.api.schema import SchemaRegistry
from host_flask.context import get_portal
from host_flask.problems import Problem


def openapi_document(operations: Iterable[Operation]) -> dict[str, Any]:
    """The document served at ``/api/v1/openapi.json``, describing ``operations``."""
    registry = SchemaRegistry()
    problem = {"application/problem+json": {"schema": registry.describe(Problem)}}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        responses: dict[str, Any] = {
            str(op.status): {
                "description": "Succès",
                "content": {"application/json": {"schema": registry.describe(op.response)}},
            },
            "400": {"description": "Requête invalide", "content": problem},
            "401": {"description": "Jeton absent, inconnu ou révoqué", "content": problem},
            "403": {"description": "Périmètre insuffisant", "content": problem},
        }
        entry: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "security": [{"bearer": [str(op.scope)] if op.scope else []}],
            "parameters": [
                {
                    "name": p.name,
                    "in": "query",
                    "required": p.required,
                    "description": p.description,
                    "schema": p.schema,
                }
                for p in op.params
            ],
            "responses": responses,
        }
        if op.request is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": registry.describe(op.request)}},
            }
            responses["422"] = {"description": "Données invalides", "content": problem}
        for status, description in op.problems:
            responses[str(status)] = {"description": description, "content": problem}
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"Portail Famille — {get_portal().settings.collectivity.name}",
            "version": "1.0.0",
            "description": "API des ERP : familles, enfants, inscriptions, agenda, factures, paiements, messages, événements.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": registry.components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
