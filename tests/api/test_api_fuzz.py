"""A bounded schemathesis run against the in-process application: no server error, and every
response conforms to the OpenAPI document."""

from __future__ import annotations

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from famille_core import Portal

# A schema-valid request may still break a business rule (an unknown household, an inverted
# period…): the API answers 422 with a problem document, which the other checks validate.
BUSINESS_RULES = [schemathesis.checks.positive_data_acceptance]


def test_api_conforms_to_its_schema(app: Flask, demo: Portal, token: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, excluded_checks=BUSINESS_RULES)

        check()
