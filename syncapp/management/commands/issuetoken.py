from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from syncapp import roles
from syncapp.api.tokens import issue_token


class Command(BaseCommand):
    help = (
        "Print the Sync/v1 API token of a user (created if missing). "
        "--rotate replaces it: the old token stops working at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace the existing token.")

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['username']!r}.") from exc
        if not user.is_active:
            raise CommandError(f"{user} is inactive; a token would be refused.")
        token, created = issue_token(user, rotate=options["rotate"])
        if not roles.is_viewer(user):
            self.stderr.write(
                f"Warning: {user} has neither the {roles.ADMINISTRATOR!r} nor the "
                f"{roles.USER!r} role; the API will answer 403."
            )
        elif not roles.is_administrator(user):
            self.stderr.write(f"Note: {user} is a {roles.USER!r}: GetSyncStatus only.")
        self.stderr.write("New token issued." if created else "Existing token.")
        self.stdout.write(token.key)
