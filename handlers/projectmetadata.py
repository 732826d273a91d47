"""Project metadata: ``/projects/{project_name_or_id}/metadatas``."""

from handlers.project import project_ref
from harbor_api.api import current_context
from harbor_api.api.responses import empty
from harbor_api.services import projects


def list_project_metadatas(project_name_or_id):
    return projects.list_metadata(current_context(), project_ref(project_name_or_id)), 200


def add_project_metadatas(project_name_or_id, body):
    projects.add_metadata(current_context(), project_ref(project_name_or_id), body)
    return empty()


def get_project_metadata(project_name_or_id, meta_name):
    return projects.get_metadata(current_context(), project_ref(project_name_or_id), meta_name), 200


def update_project_metadata(project_name_or_id, meta_name, body):
    projects.add_metadata(current_context(), project_ref(project_name_or_id), body, only=meta_name)
    return empty()


def delete_project_metadata(project_name_or_id, meta_name):
    projects.delete_metadata(current_context(), project_ref(project_name_or_id), meta_name)
    return empty()
