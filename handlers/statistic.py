"""Project, repository and storage counts."""

from harbor_api.api import current_context
from harbor_api.services import search as search_service


def get_statistic():
    return search_service.statistics(current_context()), 200
