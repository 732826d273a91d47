"""operationId → ``handlers/<tag>.py:<snake_case(operationId)>``, one rule for every route."""

from __future__ import annotations

import re

from connexion.resolver import Resolver


def snake_case(operation_id: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", operation_id).lower()


def module_for_tag(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_")


def handler_name(operation: dict) -> str:
    tags = operation.get("tags") or []
    if not tags or not operation.get("operationId"):
        raise ValueError("every operation needs a tag and an operationId")
    return f"handlers.{module_for_tag(tags[0])}.{snake_case(operation['operationId'])}"


class TagResolver(Resolver):
    def resolve_operation_id(self, operation) -> str:  # type: ignore[override]
        return handler_name(operation._operation)  # the raw operation object of the spec
