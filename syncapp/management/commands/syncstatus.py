from ._base import ControlCommand


class Command(ControlCommand):
    help = "Print the sync status JSON (what /Sync/v1/GetSyncStatus serves)."
    takes_user = False  # it changes nothing, so it acts as nobody

    def handle(self, *args, **options):
        self.print_status()
