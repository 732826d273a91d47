"""The system CVE allowlist (Harbor's tag SystemCVEAllowlist)."""

from harbor_api.api import current_context
from harbor_api.api.responses import empty
from harbor_api.services import system_cve_allowlist


def get_system_cveallowlist():
    return system_cve_allowlist.get_allowlist(current_context()), 200


def put_system_cveallowlist(body):
    system_cve_allowlist.put_allowlist(current_context(), body)
    return empty(200)
