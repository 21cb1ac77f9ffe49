"""The log handler and SWLogShipper."""

import logging
import signal

import pytest
from django.db import IntegrityError, connection, transaction

from syncapp import logshipping
from syncapp.logshipping import ShippingHandler
from syncapp.models import AsyncJob, LoggerOptions, PendingLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def handler():
    h = ShippingHandler()
    return h


def emit(handler, name, level, message):
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    handler.handle(record)


def test_the_syncs_warnings_are_kept_and_others_are_not(handler):
    emit(handler, "syncapp.engine.steps.matching", logging.WARNING, "lead rejected")
    emit(handler, "syncapp.engine.cycle", logging.INFO, "just info")
    emit(handler, "django.request", logging.ERROR, "not ours")
    assert list(PendingLogEntry.objects.values_list("logger", "message")) == [
        ("syncapp.engine.steps.matching", "lead rejected")
    ]


def test_logger_options_choose_level_and_shipping_per_namespace(handler):
    LoggerOptions.objects.create(logger="syncapp.engine", level="ERROR", ship_to_backend=True)
    LoggerOptions.objects.create(logger="syncapp.engine.watcher", ship_to_backend=False)
    LoggerOptions.objects.create(logger="thirdparty", level="WARNING")
    emit(handler, "syncapp.engine.cycle", logging.WARNING, "below ERROR")
    emit(handler, "syncapp.engine.cycle", logging.ERROR, "kept")
    emit(handler, "syncapp.engine.watcher", logging.ERROR, "not shipped")
    emit(handler, "thirdparty.sub", logging.WARNING, "opted in")
    assert sorted(PendingLogEntry.objects.values_list("message", flat=True)) == [
        "kept",
        "opted in",
    ]
    assert logging.getLogger("syncapp.engine").level == logging.ERROR


def test_the_shipper_sends_in_batches_and_deletes_what_was_accepted(world):
    for n in range(620):
        PendingLogEntry.objects.create(
            time="2026-11-27T00:00:00+00:00", level="WARNING", logger="syncapp", message=f"m{n}"
        )
    cycle = world.cycle()

    assert [len(batch) for batch in world.sw.logs] == [500, 120]
    assert world.sw.logs[0][0]["message"] == "m0"
    assert not PendingLogEntry.objects.exists()
    assert cycle.step("LogShipper")["modified"] == 620
    assert AsyncJob.objects.filter(class_name="SWLogShipper").exists()


def test_entries_stay_when_the_backend_cannot_take_them(world):
    PendingLogEntry.objects.create(
        time="2026-11-27T00:00:00+00:00", level="ERROR", logger="syncapp", message="kept"
    )
    world.sw.fail_sends = True
    cycle = world.cycle()
    assert cycle.step("LogShipper")["batches_failed"] == 1
    assert PendingLogEntry.objects.filter(message="kept").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's pipeline: PostgreSQL only")
def test_a_failing_executemany_raises_and_does_not_hang_in_the_handler():
    """psycopg runs executemany in pipeline mode; when a row fails it logs a warning from
    inside the pipeline ("error ignored terminating ... pipeline aborted"). The handler used
    to read the Logger Options on that same connection then, and the query waited forever for
    an answer: a step hung instead of failing."""
    logshipping.forget_rules()  # the handler would read the Logger Options now

    class Hung(BaseException):  # not an Exception: the handler swallows those
        pass

    def alarm(signum, frame):
        raise Hung("the failing executemany hung")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    try:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO syncapp_pendinglogentry (time, level, logger, message) "
                "VALUES (now(), %s, %s, %s)",
                [["WARNING", None, "NULL logger: refused"]]
                + [["WARNING", "x", "never written"]] * 200,
            )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not PendingLogEntry.objects.exists()
