"""The database briefly unavailable.

With PostgreSQL the worker reaches the database through a loopback TCP proxy that is cut for a
few seconds: open connections drop and new ones are refused, as when PostgreSQL restarts or the
network blips. With SQLite another process holds the write lock for a few seconds, as a long
write transaction would.

Each case also proves that the outage reached the worker: with PostgreSQL the proxy counts the
worker's connections it dropped or refused; with SQLite a row written with a time stamped while
the lock was held can only have been committed after it, so the worker waited.
"""

import sqlite3
import time
from contextlib import closing, contextmanager
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone

from avatar_studio.avatars.models import AvatarJob, AvatarResult, PredictionAttempt

from ..support.processes import TcpProxy, sqlite_write_lock
from ..support.reliability import expect_outcome, make_jobs
from ..support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTION = "Database unavailable"
OUTAGE_SECONDS = 3.0


class ProxyCut:
    """PostgreSQL through a TCP proxy: the worker's open connections dropped, new ones refused."""

    how = "PostgreSQL connections cut at a TCP proxy"

    def __init__(self, proxy):
        self.proxy = proxy
        self.dropped = self.refused = 0

    @contextmanager
    def __call__(self):
        dropped, refused = self.proxy.dropped, self.proxy.refused
        self.proxy.cut()
        try:
            yield self.how
        finally:
            self.proxy.restore()
            self.dropped = self.proxy.dropped - dropped
            self.refused = self.proxy.refused - refused

    def evidence(self, jobs):
        """(whether the outage reached the worker, what was seen): only the worker uses the proxy,
        so every connection it dropped or refused was the worker's."""
        seen = f"the proxy dropped {self.dropped} open connection(s) and refused {self.refused}"
        return self.dropped + self.refused > 0, seen


class WriteLock:
    """SQLite's write lock held by another process (a sqlite3 connection of this one).

    Triggers log every job update, attempt and stored result with two times: the one the worker
    stamped on the row just before writing it, and SQLite's clock when the write ran. A write
    stamped while the lock was held that ran only after it was released waited for the lock.
    """

    how = "SQLite write lock held by another process"
    # The writes logged: what happens to which table, and the column the app stamps with the
    # time just before (a poll's first write may be its attempt's, outside any transaction).
    LOGGED = [
        ("UPDATE", AvatarJob._meta.db_table, "updated_at"),
        ("INSERT", PredictionAttempt._meta.db_table, "submitted_at"),
        ("UPDATE", PredictionAttempt._meta.db_table, "last_polled_at"),
        ("INSERT", AvatarResult._meta.db_table, "created_at"),
    ]

    def __init__(self, path):
        self.path = path
        self.began = self.ended = None
        script = "CREATE TABLE fault_writes (stamped TEXT, ran TEXT);"
        for number, (event, table, column) in enumerate(self.LOGGED):
            # An update is logged only when it stamps the column anew.
            when = f"OF {column} ON {table} WHEN NEW.{column} IS NOT OLD.{column}"
            script += (
                f"CREATE TRIGGER fault_writes_{number} AFTER {event} "
                f"{when if event == 'UPDATE' else 'ON ' + table} BEGIN "
                f"INSERT INTO fault_writes VALUES (NEW.{column}, "
                "strftime('%Y-%m-%d %H:%M:%f', 'now')); END;"
            )
        self._execute(script)

    def close(self):
        drops = [f"DROP TRIGGER fault_writes_{number};" for number in range(len(self.LOGGED))]
        self._execute("".join(drops) + "DROP TABLE fault_writes;")

    def _execute(self, script):
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.executescript(script)

    @contextmanager
    def __call__(self):
        with sqlite_write_lock(self.path):
            self.began = timezone.now()
            try:
                yield self.how
            finally:
                self.ended = timezone.now()

    def evidence(self, jobs):
        """(whether the outage reached the worker, what was seen): writes that waited for it."""
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            rows = db.execute("SELECT stamped, ran FROM fault_writes").fetchall()
        # SQLite's clock counts whole milliseconds.
        released = self.ended.replace(microsecond=self.ended.microsecond // 1000 * 1000)
        waited = 0
        for stamped, ran in rows:
            # Both in UTC without an offset: how Django keeps aware datetimes in SQLite, and
            # SQLite's own clock.
            stamped, ran = (
                datetime.fromisoformat(text).replace(tzinfo=UTC) for text in (stamped, ran)
            )
            waited += self.began < stamped < self.ended and ran >= released
        return waited > 0, f"{waited} write(s) made during the lock ran only after it"


@pytest.fixture
def outage(spawn_worker):
    """A worker whose database can be taken away; ``with outage():`` does so."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
        user = db["USER"] or ""
        if db["PASSWORD"]:
            user += f":{db['PASSWORD']}"
        spawn_worker(database_url=f"postgres://{user}@127.0.0.1:{proxy.port}/{db['NAME']}")
        yield ProxyCut(proxy)
        proxy.close()
    else:
        lock = WriteLock(db["NAME"])
        spawn_worker()
        yield lock
        lock.close()


def expect_the_outage_hit(item, outage, jobs):
    """Record what the outage did to the worker, and fail if it did nothing."""
    hit, seen = outage.evidence(jobs)
    item.observed += f"; {seen}"
    assert hit, f"the outage never reached the worker: {seen}"


def test_database_gone_while_jobs_are_polled(outage, engine, alice, case):
    engine.configure(processing_seconds=2)
    jobs = make_jobs(alice, 3)
    wait_for(lambda: _saved(jobs) == 3, timeout=20, message="3 prediction ids saved")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, {OUTAGE_SECONDS:g} s",
            "3 jobs submitted and being polled (predictions take 2 s)",
            "all complete; 3 /v1/run calls, 3 attempts",
        )
        time.sleep(OUTAGE_SECONDS)

    expect_outcome(item, jobs, engine, statuses={"completed": 3}, runs_accepted=3)
    expect_the_outage_hit(item, outage, jobs)


def test_database_gone_while_a_result_is_stored(outage, engine, alice, case):
    engine.add_faults({"on": "output", "delay_seconds": 1.0})
    jobs = make_jobs(alice)
    wait_for(lambda: engine.stats()["output_calls"] >= 1, timeout=20, message="a download")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, {OUTAGE_SECONDS:g} s, from the start of the output download",
            "1 job; its result is downloaded and stored during the outage",
            "completes with its image stored; 1 /v1/run call",
        )
        time.sleep(OUTAGE_SECONDS)

    expect_outcome(item, jobs, engine, statuses={"completed": 1}, runs_accepted=1)
    expect_the_outage_hit(item, outage, jobs)


def test_database_gone_right_after_a_run(outage, engine, alice, case):
    engine.add_faults({"on": "run", "delay_seconds": 1.0})
    jobs = make_jobs(alice)
    wait_for(lambda: engine.stats()["run_calls"] >= 1, timeout=20, message="a /v1/run call")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, {OUTAGE_SECONDS:g} s, from the moment /v1/run is sent",
            "1 job; FASHN's answer (the prediction id) arrives during the outage",
            "completes: the id is saved once the database is back; 1 /v1/run call",
        )
        time.sleep(OUTAGE_SECONDS)

    expect_outcome(item, jobs, engine, statuses={"completed": 1}, runs_accepted=1)
    expect_the_outage_hit(item, outage, jobs)


def _saved(jobs):
    return PredictionAttempt.objects.filter(job__in=jobs).count()


def test_database_gone_longer_than_the_lease_after_a_run(outage, engine, alice, case):
    if connection.vendor == "postgresql":
        expected = {"failed SubmissionUnconfirmed": 1}
        ends = "fails SubmissionUnconfirmed once the database is back"
    else:
        # SQLite makes both writers wait out the held lock: the worker saving the id and the
        # sweeper failing the job. Which goes first after it is left to chance; either end keeps
        # every promise (one run, never re-sent, nothing lost).
        expected = [{"failed SubmissionUnconfirmed": 1}, {"completed": 1}]
        ends = "fails SubmissionUnconfirmed, or completes if the id's write wins the lock"
    engine.add_faults({"on": "run", "delay_seconds": 1.0})
    jobs = make_jobs(alice)
    wait_for(lambda: engine.stats()["run_calls"] >= 1, timeout=20, message="a /v1/run call")
    with outage() as how:
        item = case(
            SECTION,
            f"{how}, 6 s (longer than the 4 s step lease), from the moment /v1/run is sent",
            "1 job; the id cannot be saved before the lease ends",
            f"{ends}; 1 /v1/run call, never re-sent",
        )
        time.sleep(6.0)

    outcome = expect_outcome(item, jobs, engine, statuses=expected, runs_accepted=1)
    assert outcome.run_calls == 1
    expect_the_outage_hit(item, outage, jobs)
