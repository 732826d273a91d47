"""Request validation beyond the schemas, so that both database backends answer alike.

- No string the API accepts holds a NUL character: PostgreSQL cannot store U+0000 in text
  and SQLite can, so the same request got 400 on one backend and 200/404 on the other.
- A path id is declared ``int64`` (as Harbor does) but the id columns are ``INTEGER`` (int4
  on PostgreSQL, which refuses a larger value): an id beyond that range names nothing, 404.
"""

from __future__ import annotations

from typing import Any

from connexion.exceptions import BadRequestProblem
from connexion.validators import JSONRequestBodyValidator, ParameterValidator

from harbor_api.errors import NotFoundError

NUL_MESSAGE = "NUL characters (U+0000) are not allowed"
ID_COLUMN_MAX = 2**31 - 1  # every id column is INTEGER


def holds_nul(value: Any) -> bool:
    """True if ``value`` (or any key or item inside it) is a string containing U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


class RequestParameterValidator(ParameterValidator):
    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        if holds_nul(value):
            return f"{parameter_type} parameter '{param['name']}': {NUL_MESSAGE}"
        return ParameterValidator.validate_parameter(parameter_type, value, param, param_name)

    def validate_path_parameter(self, param, request):
        error = super().validate_path_parameter(param, request)
        if error is None and param.get("schema", {}).get("type") == "integer":
            value = int(request.path_params[param["name"].replace("-", "_")])
            if value > ID_COLUMN_MAX:
                raise NotFoundError(f"{param['name']} {value} not found")
        return error


class RequestJSONBodyValidator(JSONRequestBodyValidator):
    def _validate(self, body: Any) -> dict | None:
        if holds_nul(body):
            raise BadRequestProblem(detail=f"request body: {NUL_MESSAGE}")
        return super()._validate(body)
