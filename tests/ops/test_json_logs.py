"""`LOG_FORMAT=json` (issue 28): one JSON object a line, with the cycle (SAJ name) and the
step on every line a step writes, from whichever of its threads."""

import io
import json
import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from syncapp.engine.cycle import start_cycle
from syncapp.engine.steps import Step
from syncapp.logcontext import JsonFormatter, StepContextFilter, step_context
from syncapp.models import SWApexJob
from syncapp.models.statuses import Trigger

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("syncapp.engine.steps.talkative")


class Talkative(Step):
    """Logs from its own thread, from a helper thread, and a traceback."""

    name = "Talkative"

    def run(self, ctx):
        with ctx.batch() as batch:
            log.info("working on %d records\nover two lines", 3)
            with ThreadPoolExecutor(1, thread_name_prefix="helper") as pool:
                # INFO: a warning would also be kept for the log shipper, by the helper
                # thread's own connection, which waits on the test's open transaction.
                pool.submit(log.info, "from a helper thread").result()
            try:
                raise ValueError("a bad record")
            except ValueError:
                log.exception("one record failed", extra={"record_id": "003X"})
            batch.examined += 3


@pytest.fixture
def json_lines():
    """Everything logged (DEBUG and up) through a handler configured as LOG_FORMAT=json
    configures the console's."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(StepContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("syncapp").setLevel(logging.DEBUG)

    def lines():
        text = stream.getvalue()
        stream.seek(0)
        stream.truncate()
        return [json.loads(line) for line in text.splitlines()]  # every line is one object

    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_every_line_a_step_writes_names_its_cycle_and_step(world, settings, json_lines):
    settings.SWSTUDIO_WORKFLOW = [
        "tests.ops.test_json_logs.Talkative",
        *django_settings.SWSTUDIO_DEFAULT_WORKFLOW,
    ]
    world.sw.transient = 0
    logging.getLogger("before").info("outside any step")
    cycle = start_cycle(Trigger.RUNNER)
    outside = json_lines()
    world.job_queue.run_all()
    inside = json_lines()
    logging.getLogger("after").info("outside any step again")
    after = json_lines()
    cycle = SWApexJob.objects.get(pk=cycle.pk)

    assert [line["message"] for line in outside if line["logger"] == "before"] == [
        "outside any step"
    ]
    assert all("cycle" not in line and "step" not in line for line in outside + after)

    steps = {s["name"] for s in cycle.steps}
    assert len(inside) >= 3
    for line in inside:
        assert line["cycle"] == cycle.name, line
        assert line["step"] in steps, line
    talkative = [line for line in inside if line["logger"] == log.name]
    assert [line["message"] for line in talkative] == [
        "working on 3 records\nover two lines",
        "from a helper thread",
        "one record failed",
    ]
    assert {line["step"] for line in talkative} == {"Talkative"}
    assert talkative[1]["thread"].startswith("helper")
    assert "ValueError: a bad record" in talkative[2]["exception"]
    assert talkative[2]["record_id"] == "003X"
    assert talkative[2]["level"] == "ERROR"


def test_log_format_json_configures_the_console(tmp_path):
    """The settings' LOGGING under LOG_FORMAT=json: stderr carries JSON objects only."""
    env = {**os.environ, "LOG_FORMAT": "json", "SWSTUDIO_VAR_DIR": str(tmp_path)}
    code = (
        "import django, logging; django.setup(); "
        "from syncapp.logcontext import step_context; "
        "logging.getLogger('syncapp.x').warning('plain line'); "
        'exec(\'with step_context("SAJ-000007", "GetTags"):\\n'
        '    logging.getLogger("syncapp.x").warning("in a step")\')'
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "swstudio_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["message"], line.get("cycle"), line.get("step")) for line in lines] == [
        ("plain line", None, None),
        ("in a step", "SAJ-000007", "GetTags"),
    ]
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "syncapp.x"


def test_plain_text_stays_the_default():
    assert django_settings.LOGGING["handlers"]["console"]["formatter"] == "plain"


def test_a_step_context_ends_with_the_step():
    with step_context("SAJ-000001", "GetTags"):
        pass
    record = logging.LogRecord("x", logging.INFO, "", 0, "m", (), None)
    StepContextFilter().filter(record)
    assert (record.cycle, record.step) == (None, None)
    assert "cycle" not in json.loads(JsonFormatter().format(record))
