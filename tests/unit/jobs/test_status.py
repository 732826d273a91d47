"""Execution status derived from task counts; Harbor's names."""

import pytest

from harbor_api.jobs import status as st


@pytest.mark.parametrize(
    "counts, expected",
    [
        ({}, st.SUCCESS),
        ({st.SUCCESS: 3}, st.SUCCESS),
        ({st.SUCCESS: 2, st.PENDING: 1}, st.RUNNING),
        ({st.ERROR: 1, st.RUNNING: 1}, st.RUNNING),
        ({st.ERROR: 1, st.STOPPED: 1, st.SUCCESS: 1}, st.ERROR),
        ({st.STOPPED: 1, st.SUCCESS: 4}, st.STOPPED),
    ],
)
def test_execution_status_derives_from_task_counts(counts, expected):
    assert st.derive(counts) == expected


def test_api_shows_harbor_names_only():
    assert {st.harbor_name(s) for s in st.ALL} == {"InProgress", "Succeed", "Failed", "Stopped"}
