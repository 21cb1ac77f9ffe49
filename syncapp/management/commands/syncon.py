from syncapp.engine import control

from ._base import ControlCommand


class Command(ControlCommand):
    help = "Turn the sync on (creates the SalesWings Studio : Watcher schedule)."

    def handle(self, *args, **options):
        changed = control.turn_on(self.get_user(options))
        self.stderr.write("Sync turned on." if changed else "Sync was already on.")
        self.print_status()
