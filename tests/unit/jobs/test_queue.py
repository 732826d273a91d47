"""The task state machine on real SQLite and PostgreSQL: claim, run, retry with backoff,
stop, lease expiry and re-queue, exactly-one claim under races."""

from __future__ import annotations

import datetime as dt
import threading
import time

from harbor_api.db.base import utcnow
from harbor_api.db.models import Execution, Task
from harbor_api.jobs import executions, queue
from harbor_api.jobs import status as st
from harbor_api.jobs.logs import read_log
from harbor_api.jobs.runner import LeaseKeeper, execute


def start(db, job_type, params, vendor="TEST"):
    with db.transaction() as s:
        return executions.create_execution(s, vendor, job_type, params=params).id


def task_of(db, execution_id) -> Task:
    with db.read() as s:
        task = s.query(Task).filter_by(execution_id=execution_id).one()
        s.expunge(task)  # a detached snapshot, readable after the session ends
        return task


def execution_status(db, execution_id) -> str:
    with db.read() as s:
        return s.get(Execution, execution_id).status


def run_next(db, storage, owner="w1", lease=30.0):
    claim = queue.claim_next(db, owner, lease, job_types=["TEST_STEPS", "TEST_FAIL"])
    assert claim is not None
    return execute(db, storage, LeaseKeeper(db, lease), claim)


def test_tasks_run_and_the_execution_status_follows(db, storage):
    eid = start(db, "TEST_STEPS", [{"steps": 1}, {"steps": 1}])
    assert execution_status(db, eid) == st.RUNNING
    assert run_next(db, storage) == st.SUCCESS
    assert execution_status(db, eid) == st.RUNNING  # one task still pending
    assert run_next(db, storage) == st.SUCCESS
    assert execution_status(db, eid) == st.SUCCESS
    with db.read() as s:
        done = s.get(Execution, eid)
        assert done.end_time is not None
        rendered = executions.render_execution(s, done)
    assert rendered["status"] == "Succeed" and rendered["metrics"]["success_task_count"] == 2
    with db.read() as s:
        task_ids = [t.id for t in s.query(Task).filter_by(execution_id=eid)]
    assert "all steps done" in read_log(storage, task_ids[0])


def test_a_failed_run_is_retried_after_its_backoff(db, storage):
    eid = start(db, "TEST_FAIL", {"fail_runs": 1})
    assert run_next(db, storage) == st.PENDING
    task = task_of(db, eid)
    assert task.run_count == 1 and "planned failure of run 1" in task.status_message
    # due after the first retry's backoff (0.2 s), and not claimable before
    delay = (task.next_attempt_at - task.update_time).total_seconds()
    assert 0.19 <= delay <= 0.21
    if utcnow() < task.next_attempt_at - dt.timedelta(seconds=0.05):
        assert queue.claim_next(db, "w1", 30, job_types=["TEST_FAIL"]) is None
    time.sleep(0.3)
    assert run_next(db, storage) == st.SUCCESS
    task = task_of(db, eid)
    assert task.run_count == 2 and task.status == st.SUCCESS
    assert execution_status(db, eid) == st.SUCCESS
    log = read_log(storage, task.id)
    assert "run 1 failed" in log and "run 2 of TEST_FAIL" in log


def test_retries_run_out_and_the_task_fails(db, storage):
    eid = start(db, "TEST_FAIL", {"fail_runs": 99})  # max_retries 2: three runs in all
    outcomes = []
    for _ in range(3):
        deadline = time.monotonic() + 5
        while (claim := queue.claim_next(db, "w1", 30, job_types=["TEST_FAIL"])) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        outcomes.append(execute(db, storage, LeaseKeeper(db, 30), claim))
    assert outcomes == [st.PENDING, st.PENDING, st.ERROR]
    assert task_of(db, eid).run_count == 3
    assert execution_status(db, eid) == st.ERROR


def test_backoff_doubles_up_to_its_cap():
    from harbor_api.jobs import types

    fail = types.get("TEST_FAIL")
    assert [fail.backoff(n) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.5, 0.5]


def test_a_pending_task_stops_at_once(db, storage):
    eid = start(db, "TEST_STEPS", {"steps": 1})
    with db.transaction() as s:
        assert executions.stop_execution(s, eid)
    assert task_of(db, eid).status == st.STOPPED
    assert execution_status(db, eid) == st.STOPPED
    assert queue.claim_next(db, "w1", 30, job_types=["TEST_STEPS"]) is None


def test_a_running_task_stops_when_its_heartbeat_sees_the_request(db, storage):
    eid = start(db, "TEST_STEPS", {"steps": 200, "step_seconds": 0.05})
    claim = queue.claim_next(db, "w1", 30, job_types=["TEST_STEPS"])
    keeper = LeaseKeeper(db, 30)
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(execute(db, storage, keeper, claim)))
    runner.start()
    time.sleep(0.2)
    with db.transaction() as s:
        executions.stop_task(s, claim.task_id)
    assert execution_status(db, eid) == st.RUNNING  # asked, not yet seen by the worker
    keeper.beat()
    runner.join(5)
    assert outcome == [st.STOPPED]
    assert execution_status(db, eid) == st.STOPPED
    assert "stopped at step" in read_log(storage, claim.task_id)


def test_an_expired_lease_requeues_and_the_old_owner_cannot_finish(db, storage):
    eid = start(db, "TEST_STEPS", {"steps": 1})
    lost = queue.claim_next(db, "dead-worker", 1.0, job_types=["TEST_STEPS"])
    assert queue.requeue_expired(db) == 0  # still leased
    time.sleep(1.2)
    assert queue.requeue_expired(db) == 1
    task = task_of(db, eid)
    assert task.status == st.PENDING and "re-queued" in task.status_message
    assert run_next(db, storage, owner="w2") == st.SUCCESS
    assert task_of(db, eid).run_count == 2
    assert queue.finish(db, lost, None) is None  # the lost run changes nothing
    assert task_of(db, eid).status == st.SUCCESS


def test_heartbeat_keeps_a_lease_alive(db, storage):
    eid = start(db, "TEST_STEPS", {"steps": 1})
    claim = queue.claim_next(db, "w1", 1.5, job_types=["TEST_STEPS"])
    keeper = LeaseKeeper(db, 1.5)
    keeper.hold(claim, threading.Event())
    for _ in range(5):  # 2.5 s in all: longer than the lease
        time.sleep(0.5)
        keeper.beat()
        assert queue.requeue_expired(db) == 0
    assert task_of(db, eid).status == st.RUNNING


def test_concurrent_claimers_take_each_task_exactly_once(db):
    start(db, "TEST_STEPS", [{"n": n} for n in range(20)])
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(name):
        while (claim := queue.claim_next(db, name, 30, job_types=["TEST_STEPS"])) is not None:
            with lock:
                claimed.append(claim.task_id)

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(claimed) == 20 and len(set(claimed)) == 20


def test_a_paused_queue_is_not_claimed_and_stop_cleans_it(db):
    from harbor_api.db.models import JobQueueState

    eid = start(db, "TEST_STEPS", {"steps": 1})
    with db.transaction() as s:
        s.add(JobQueueState(job_type="TEST_STEPS", paused=True))
    assert queue.claim_next(db, "w1", 30, job_types=["TEST_STEPS"]) is None
    with db.transaction() as s:
        assert executions.stop_pending(s, ["TEST_STEPS"]) == 1
    assert execution_status(db, eid) == st.STOPPED


def test_a_job_whose_lease_was_lost_is_told_to_stop(db, storage):
    """Its lease expired and the task was re-queued: the old run must not go on beside the
    next one."""
    start(db, "TEST_STEPS", {"steps": 1})
    claim = queue.claim_next(db, "slow-worker", 0.2, job_types=["TEST_STEPS"])
    keeper = LeaseKeeper(db, 0.2)
    stop_event = threading.Event()
    keeper.hold(claim, stop_event)
    time.sleep(0.3)
    assert queue.requeue_expired(db) == 1
    keeper.beat()
    assert stop_event.is_set()


def test_tasks_finishing_together_leave_the_execution_final(db, storage):
    """Each finishing transaction derives the status from the others' committed outcomes
    (the execution row is locked first), so the last one to commit sees them all."""
    for _ in range(5):
        eid = start(db, "TEST_STEPS", [{"n": n} for n in range(4)])
        claims = [queue.claim_next(db, f"w{n}", 30, job_types=["TEST_STEPS"]) for n in range(4)]
        barrier = threading.Barrier(4)

        def finish(claim, barrier=barrier):
            barrier.wait()
            queue.finish(db, claim, None)

        threads = [threading.Thread(target=finish, args=(c,)) for c in claims]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert execution_status(db, eid) == st.SUCCESS


def test_rerun_failed_queues_only_the_failed_tasks_again(db, storage):
    """The re-run of an execution's failed tasks (replication's retry extension): the
    failed one is pending again with a fresh series of retries; the succeeded one stays."""
    eid = start(db, "TEST_FAIL", [{"fail_runs": 0}, {"fail_runs": 99}])
    outcomes = []
    while len(outcomes) < 4:  # one success, then three failed runs of the other task
        deadline = time.monotonic() + 5
        while (claim := queue.claim_next(db, "w1", 30, job_types=["TEST_FAIL"])) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        outcomes.append(execute(db, storage, LeaseKeeper(db, 30), claim))
    assert outcomes == [st.SUCCESS, st.PENDING, st.PENDING, st.ERROR]
    assert execution_status(db, eid) == st.ERROR
    with db.transaction() as s:
        assert executions.rerun_failed(s, eid) == 1
    with db.read() as s:
        tasks = {t.status: t.run_count for t in s.query(Task).filter_by(execution_id=eid)}
    assert tasks == {st.SUCCESS: 1, st.PENDING: 0}
    assert execution_status(db, eid) == st.RUNNING
    with db.transaction() as s:
        assert executions.rerun_failed(s, eid) == 0  # nothing failed now: nothing changes
    assert execution_status(db, eid) == st.RUNNING
