from django.core.management.base import CommandError

from syncapp.engine import control

from ._base import ControlCommand


class Command(ControlCommand):
    help = "Turn the sync off and on. Refused while a cycle runs, unless --force."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--force", action="store_true", help="Abort a running cycle.")

    def handle(self, *args, **options):
        try:
            control.restart(self.get_user(options), force=options["force"])
        except control.SyncRunning as exc:
            raise CommandError(f"{exc} Use --force to restart anyway.") from exc
        self.stderr.write("Sync restarted.")
        self.print_status()
