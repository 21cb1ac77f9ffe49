from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from syncapp import roles
from syncapp.models import FieldMapping, ScoreDefinition
from syncapp.models.mirror import MappedObject

# The bundled sandbox's scores (its seeded SalesWings account) and the Number fields its org
# has for them on every mapped object: what the demo maps so its first cycle writes scores.
# GetScores fills in their names and descriptions from the backend.
SANDBOX_SCORE_FIELDS = {
    "engagement": ("Engagement", "SW_Engagement_Score__c"),
    "fit": ("Fit", "SW_Fit_Score__c"),
}


class Command(BaseCommand):
    help = (
        "Prepare the embedded default for a first run: an administrator account "
        "(admin / $SWSTUDIO_ADMIN_PASSWORD, default 'admin', only with DEBUG on) and, with the "
        "sandbox enabled, a seeded sandbox world and Field Mappings of its scores (on a fresh "
        "installation only). Safe to run again."
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
            self.map_sandbox_scores()

    def map_sandbox_scores(self):
        """Map the sandbox's scores to their fields, once: on an installation that has seen no
        score yet (no cycle ran). Mappings deleted or changed later stay as the user left
        them. No org check: the web server that serves the sandbox is not up yet, and these
        fields are the sandbox org's own."""
        if ScoreDefinition.objects.exists() or FieldMapping.objects.exists():
            return
        for backend_id, (name, field) in SANDBOX_SCORE_FIELDS.items():
            score = ScoreDefinition.objects.create(backend_id=backend_id, name=name)
            for obj in MappedObject.values:
                FieldMapping.objects.create(score=score, object=obj, field=field)
        self.stdout.write(
            "Sandbox: its scores are mapped (Field Mappings: "
            + ", ".join(f for _, f in SANDBOX_SCORE_FIELDS.values())
            + " on Leads, Contacts, Accounts and Opportunities)."
        )
