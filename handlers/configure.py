"""System configuration: ``/configurations``."""

from harbor_api.api import current_context
from harbor_api.api.responses import empty
from harbor_api.services import configurations


def get_configurations():
    return configurations.read_by(current_context()), 200


def update_configurations(body):
    configurations.update_by(current_context(), body)
    return empty()
