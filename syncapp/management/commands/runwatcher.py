import json

from django.core.management.base import BaseCommand

from syncapp.engine.watcher import run_watcher


class Command(BaseCommand):
    help = "Run the Watcher's duties now (cleanup, stale jobs, restart, notifications)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(run_watcher(), default=str, indent=2))
