"""The job service: executions and tasks in the database, workers, queues and schedules.

See ``docs/jobs.md`` (the job types, generated from :data:`harbor_api.jobs.types.JOB_TYPES`)
and ``docs/adr/0009-job-queue.md`` (why the database queue and RQ).
"""
