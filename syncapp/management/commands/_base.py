import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from syncapp.api import status


class ControlCommand(BaseCommand):
    """A thin shell over a control function; prints the sync status JSON afterwards."""

    takes_user = True

    def add_arguments(self, parser):
        if self.takes_user:
            parser.add_argument("--user", help="Username to act as (becomes the running user).")

    def get_user(self, options):
        username = options.get("user")
        if username is None:
            return None
        if not username.strip():
            raise CommandError("--user: a username, not an empty string.")
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc

    def print_status(self):
        self.stdout.write(json.dumps(status.sync_status(), indent=2))
