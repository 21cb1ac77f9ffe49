from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from syncapp import roles


class Command(BaseCommand):
    help = (
        "Prepare the embedded default for a first run: an administrator account "
        "(admin / $SWSTUDIO_ADMIN_PASSWORD, default 'admin', only with DEBUG on) and, with the "
        "sandbox enabled, a seeded sandbox world. Safe to run again."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        if settings.DEBUG and not User.objects.filter(is_superuser=True).exists():
            import os

            password = os.environ.get("SWSTUDIO_ADMIN_PASSWORD", "admin")
            user = User.objects.create_superuser("admin", "admin@localhost", password)
            user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
            self.stdout.write(f"Created the administrator: log in as admin / {password}")
        if settings.SANDBOX_ENABLED:
            call_command("sandbox", "seed", "--if-empty")
