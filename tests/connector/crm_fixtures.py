"""Fixtures for CRM-layer tests: an app whose enabled CRM is the example adapter on a fake."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import insert

from connector import db, queue
from connector.schema import calls

TOKEN = "example-crm-token-for-tests"


def crm_section(fake, **extra):
    return {"adapters": ["example"], "writeback_delay_seconds": 0,
            "example": {"base_url": fake.url, "api_token": TOKEN}, **extra}


def run_jobs(app) -> None:
    """Run every queued job (as a worker would), in this process."""
    queue.make_worker(app, fork=False).work(burst=True)


@contextmanager
def registered_worker(app) -> Iterator[object]:
    """The registration a running `cti worker` keeps in Redis (with this process's pid)."""
    worker = queue.make_worker(app, fork=False)
    worker.register_birth()
    try:
        yield worker
    finally:
        worker.register_death()


def add_call(app, call_sid, *, clock, customer_number="+81312345678", direction="inbound",
             agent_id=None, final=True, customer=None, **values):
    now = clock()
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid=call_sid, direction=direction, status="completed" if final else "ringing",
            from_number=customer_number if direction == "inbound" else "client:agent1",
            to_number="+815012345678" if direction == "inbound" else customer_number,
            customer_number=customer_number, agent_id=agent_id,
            started_at=now - timedelta(minutes=3), answered_at=now - timedelta(minutes=2),
            ended_at=now if final else None, duration_seconds=180 if final else None,
            talk_seconds=120 if final else None, customer=customer,
            finalized_at=now if final else None, created_at=now, updated_at=now, **values))


def sid(n: int) -> str:
    return f"CA{n:032x}"


__all__ = ["add_call", "crm_section", "registered_worker", "run_jobs", "sid"]
