"""Form bodies: strict validation that lets a schema accept fields it does not name.

Connexion's strict validation refuses any form field the schema does not list, whatever its
``additionalProperties``. Harbor's ``/c/login`` reads ``principal`` and ``password`` and
ignores the rest (login forms and scripts send more), so here a form schema that says
``additionalProperties: true`` takes unknown fields; the handler still sees only its own.
:func:`validator_map` also installs the parameter and JSON rules of ``validation.py``.
"""

from __future__ import annotations

from connexion.datastructures import MediaTypeDict
from connexion.validators import VALIDATOR_MAP, FormDataValidator

from harbor_api.api.validation import RequestJSONBodyValidator, RequestParameterValidator


class LenientFormDataValidator(FormDataValidator):
    def _validate_params_strictly(self, data: dict) -> None:
        if self._schema.get("additionalProperties") is True:
            return
        super()._validate_params_strictly(data)


def validator_map() -> dict:
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = RequestJSONBodyValidator
    body["application/x-www-form-urlencoded"] = LenientFormDataValidator
    return {"parameter": RequestParameterValidator, "body": body}
