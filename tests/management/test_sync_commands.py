"""syncon, restartsync, syncoff and syncstatus from the command line: who the running user is,
and the messages of a refusal."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from syncapp.engine.cycle import start_cycle
from syncapp.models import SyncState
from syncapp.models.statuses import Trigger

pytestmark = pytest.mark.django_db


def run(*args):
    call_command(*args, stdout=StringIO(), stderr=StringIO())


def test_a_restart_without_user_keeps_the_running_user(admin_user, job_queue):
    """The README's `restartsync --force` cleared who turned the sync on."""
    run("syncon", "--user", admin_user.username)
    run("restartsync", "--force")
    state = SyncState.load()
    assert (state.enabled, state.generation, state.running_user) == (True, 3, admin_user)


def test_a_restart_with_a_user_makes_them_the_running_user(admin_user, viewer_user, job_queue):
    run("syncon", "--user", admin_user.username)
    run("restartsync", "--user", viewer_user.username)
    assert SyncState.load().running_user == viewer_user


@pytest.mark.parametrize("command", ["syncon", "restartsync", "syncoff"])
def test_an_empty_user_is_refused(command, job_queue):
    with pytest.raises(CommandError, match="--user: a username, not an empty string"):
        run(command, "--user", " ")
    assert SyncState.load().generation == 0


def test_syncstatus_takes_no_user(db):
    with pytest.raises(CommandError, match="unrecognized arguments: --user"):
        run("syncstatus", "--user", "nobody")


def test_a_refused_restart_names_the_flag(admin_user, job_queue):
    run("syncon", "--user", admin_user.username)
    start_cycle(Trigger.WATCHER)
    with pytest.raises(CommandError, match=r"is running\. Use --force to restart anyway\.$"):
        run("restartsync")
