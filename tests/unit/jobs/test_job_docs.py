"""docs/jobs.md lists exactly the registered built-in job types."""

from pathlib import Path

from harbor_api.jobs import types

DOC = Path(__file__).resolve().parents[3] / "docs" / "jobs.md"


def test_job_types_table_matches_the_registry():
    text = DOC.read_text()
    block = text.split("<!-- job-types:begin -->\n", 1)[1].split("<!-- job-types:end -->", 1)[0]
    assert block == types.markdown_table(), (
        "docs/jobs.md is stale: paste `python -m harbor_api.jobs.types` between the markers"
    )


def test_every_builtin_job_type_is_listed():
    types.load_builtin()
    assert "AUDIT_LOGS_GC" in types.JOB_TYPES
