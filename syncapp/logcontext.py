"""The cycle and step a log line belongs to, and the JSON log format (`LOG_FORMAT=json`).

`engine/cycle.run_step` runs every step inside `step_context(cycle_name, step_name)`; the
`StepContextFilter` of the console handler puts both on each record it passes (`record.cycle`,
`record.step`), and `JsonFormatter` writes one JSON object a line with them.

The context is a contextvar (exact for the thread that runs the step) with a process-wide
fallback for the threads the step starts (read-ahead, write-behind, heartbeat): a qcluster
worker process runs one task at a time, so while a step runs, every thread of that process
works for it.

Imported by the LOGGING setting before the apps are ready: standard library only.
"""

import contextvars
import datetime
import functools
import json
import logging
from contextlib import contextmanager

_current = contextvars.ContextVar("swstudio_step", default=None)
_process = {"current": None}

# Attributes every LogRecord has: what is left over was passed in `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "cycle",
    "step",
}


@contextmanager
def step_context(cycle, step):
    """Log lines written inside carry `cycle` (the SAJ name) and `step`."""
    with _scope():
        enter(cycle, step)
        yield


def enter(cycle, step):
    """From here to the end of the enclosing `scoped` function (or `step_context`), log lines
    carry `cycle` and `step`."""
    _current.set((cycle, step))
    _process["current"] = (cycle, step)


@contextmanager
def _scope():
    token = _current.set(_current.get())
    previous = _process["current"]
    try:
        yield
    finally:
        _process["current"] = previous
        _current.reset(token)


def scoped(fn):
    """Decorator: the log context `fn` enters (`enter`) ends when it returns."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _scope():
            return fn(*args, **kwargs)

    return wrapper


def current():
    """(cycle, step) of the step running in this thread or process, or None."""
    return _current.get() or _process["current"]


class StepContextFilter(logging.Filter):
    """Adds `cycle` and `step` to every record (None outside a step); never drops one."""

    def filter(self, record):
        value = current()
        record.cycle, record.step = value if value else (None, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the cycle and
    the step when a step wrote it, the exception's traceback when there is one, and what the
    caller passed in `extra=`."""

    def format(self, record):
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cycle = getattr(record, "cycle", None)
        step = getattr(record, "step", None)
        if cycle is None and step is None:
            value = current()  # a handler configured without the filter
            cycle, step = value if value else (None, None)
        if cycle is not None:
            line["cycle"] = cycle
            line["step"] = step
        line["process"] = record.process
        line["thread"] = record.threadName
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        # default=str: an `extra=` value JSON cannot hold is written as its text, never lost.
        return json.dumps(line, default=str, ensure_ascii=False)
