"""General system information."""

from harbor_api.api import current_context
from harbor_api.services import system


def get_system_info():
    return system.general_info(current_context()), 200
