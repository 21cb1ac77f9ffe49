"""GetTags and GetScores: align the local tag and score definitions with the backend."""

import logging

from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.models import Lifecycle, Prospect, ScoreDefinition, TagDefinition

log = logging.getLogger(__name__)


def _parse(items, batch, kind):
    good = {}
    for item in items:
        batch.examined += 1
        ident = item.get("id") if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident or len(ident) > 80 or "\x00" in ident:
            batch.record_failure(f"Malformed {kind} definition skipped: {str(item)[:120]!r}")
            continue
        # A NUL character is valid JSON but PostgreSQL refuses it in text: dropped.
        good[ident] = {
            "name": str(item.get("name") or ident).replace("\x00", "")[:255],
            "description": str(item.get("description") or "").replace("\x00", ""),
        }
    return good


def requeue_active_prospects():
    """What a prospect writes depends on a definition that changed: write them all again.
    (The compare-before-write keeps the Salesforce writes to the records that really change.)"""
    return Prospect.objects.filter(lifecycle=Lifecycle.ACTIVE).requeue()


class _Definitions(Step):
    model = None
    kind = ""
    delete_removed = True
    # Tag names are written into SW_Tags__c; score names are not written anywhere.
    name_matters = True

    def fetch(self, sw):
        raise NotImplementedError

    def run(self, ctx):
        with ctx.batch() as batch:
            items = self.fetch(clients.saleswings())  # network: outside any transaction
            wanted = _parse(items if isinstance(items, list) else [], batch, self.kind)
            if not isinstance(items, list):
                batch.record_failure(f"The backend's {self.kind} list is not a list.")
                return
            with ctx.fenced():
                existing = {d.backend_id: d for d in self.model.objects.select_for_update()}
                changed_meaning = False
                for backend_id, fields in wanted.items():
                    current = existing.get(backend_id)
                    if current is None:
                        self.model.objects.create(backend_id=backend_id, **fields)
                        batch.modified += 1
                        continue
                    if not current.active or (self.name_matters and current.name != fields["name"]):
                        changed_meaning = True
                    if (current.name, current.description, current.active) != (
                        fields["name"],
                        fields["description"],
                        True,
                    ):
                        current.name = fields["name"]
                        current.description = fields["description"]
                        current.active = True
                        current.save()
                        batch.modified += 1
                gone = [d for bid, d in existing.items() if bid not in wanted and d.active]
                for definition in gone:
                    changed_meaning = True
                    if self.delete_removed:
                        definition.delete()
                    else:
                        definition.active = False
                        definition.save(update_fields=["active"])
                    batch.modified += 1
                if changed_meaning:
                    count = requeue_active_prospects()
                    log.info(
                        "%s definitions changed: %s prospects to write again", self.kind, count
                    )


class GetTags(_Definitions):
    name = "GetTags"
    model = TagDefinition
    kind = "tag"

    def fetch(self, sw):
        return sw.tags()


class GetScores(_Definitions):
    name = "GetScores"
    model = ScoreDefinition
    kind = "score"
    name_matters = False
    # Field Mappings point at score definitions: a score the backend stops listing is
    # deactivated, not deleted, so the user's mappings survive its return.
    delete_removed = False

    def fetch(self, sw):
        return sw.scores()
