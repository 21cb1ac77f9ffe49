from syncapp.engine import control

from ._base import ControlCommand


class Command(ControlCommand):
    help = "Turn the sync off (removes every schedule, aborts every job of the sync)."

    def handle(self, *args, **options):
        changed = control.turn_off(self.get_user(options))
        self.stderr.write("Sync turned off." if changed else "Sync was already off.")
        self.print_status()
