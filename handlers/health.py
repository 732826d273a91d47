"""Health of every component."""

from harbor_api.api import current_context
from harbor_api.services import system


def get_health():
    report = system.health(current_context())
    return report, 200
