"""Delivery of fine-tuning jobs on PostgreSQL through procrastinate (issue 12).

The ``finetune_jobs`` row stays the source of truth (status, heartbeats, checkpoints, the one finish);
procrastinate delivers "train job X" to one worker among many machines, locks it to that worker, and
brings it back when that worker stops heartbeating. Its delivery is written by ``enqueue`` in the same
transaction as the job row (its SQL API ``procrastinate_defer_jobs_v1``), so a job and its delivery commit
or roll back together. Its schema is applied by migration ``0015_procrastinate`` (PostgreSQL only).

On SQLite there is no library: the embedded worker polls the table (``Worker.run_forever``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger("valuechain.finetune")
QUEUE = "finetune"
TASK = "valuechain.finetune.train"
#: one delivery waiting per job: a second defer of a job still to do is refused by this lock
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, :queueing_lock, "
    "CAST(:args AS jsonb), NULL)]::procrastinate_job_to_defer_v1[])"
)


def uses_library(session: Session) -> bool:
    """Whether this database delivers jobs through procrastinate (PostgreSQL) or by polling (SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def enqueue(session: Session, job_id: str) -> None:
    """Deliver ``job_id`` to a worker once this transaction commits (nothing on SQLite)."""
    if not uses_library(session):
        return
    session.execute(
        _DEFER,
        {
            "queue": QUEUE,
            "task": TASK,
            "queueing_lock": f"ftjob:{job_id}",
            "args": json.dumps({"job_id": job_id}),
        },
    )


def conninfo(database_url: str) -> str:
    """The libpq URL of a SQLAlchemy PostgreSQL URL (procrastinate speaks psycopg directly)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(database_url: str) -> Any:
    """A procrastinate ``App`` on the database (its tasks are registered by ``serve``)."""
    import procrastinate

    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)))


class StillHeldError(Exception):
    """The job is running under another worker whose heartbeat is fresh: deliver again later."""


def serve(app: Any, run_delivered: Any, *, lease_s: float, stopping: Any) -> None:
    """Run procrastinate's worker for the ``finetune`` queue (one job at a time) until ``stopping``."""
    from procrastinate import RetryStrategy

    wait = max(1, int(lease_s / 2))

    # a delivery that finds the job still held (its worker may be dying) comes back until the lease ends
    retry = RetryStrategy(max_attempts=50, wait=wait, retry_exceptions={StillHeldError})

    @app.task(name=TASK, queue=QUEUE, retry=retry)
    def train(job_id: str) -> None:
        run_delivered(job_id)

    async def main() -> None:
        async with app.open_async():
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=1,
                    wait=True,
                    install_signal_handlers=False,
                    update_heartbeat_interval=max(0.5, lease_s / 3),
                    stalled_worker_timeout=lease_s,
                    fetch_job_polling_interval=max(0.5, lease_s / 2),
                )
            )
            try:
                while not stopping.is_set() and not worker.done():
                    await _redeliver_stalled(app, lease_s=lease_s)
                    await asyncio.sleep(max(0.5, lease_s / 3))
            finally:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)

    asyncio.run(main())


async def _redeliver_stalled(app: Any, *, lease_s: float) -> None:
    """Deliveries held by a worker that stopped heartbeating (killed, machine lost) go back to the queue;
    the next worker takes the job over from its last checkpoint."""
    try:
        stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=lease_s)
        for job in stalled:
            log.warning("fine-tuning delivery %s: its worker stopped; delivering again", job.id)
            await app.job_manager.retry_job(job)
    except Exception:  # the next round tries again
        log.exception("looking for stalled fine-tuning deliveries failed")
