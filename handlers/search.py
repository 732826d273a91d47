"""Search projects and repositories."""

from harbor_api.api import current_context
from harbor_api.services import search as search_service


def search(q):
    return search_service.search(current_context(), q), 200
