"""MatchProspectsToLeads and MatchProspectsToContacts.

Per batch of `Not Processed` prospects: one chunked `Email IN (...)` query, then one
collection update per 200 records that really change (compared with what the query returned),
then, with activity sync on, an upsert of their new activities; and only after those writes the
prospects' statuses are committed. A crash repeats the batch; the compare makes that cheap.
"""

from collections import defaultdict

from django.db import transaction

from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.common import (
    PERSON_FIELDS,
    changes,
    describe_failure,
    keyset,
    person_score_fields,
    prospect_values,
    sf_datetime,
    soql_fields,
    tag_names,
    update_rows,
    write,
)
from syncapp.models import Activity, Prospect, RecordSnapshot, SyncStatus

ACTIVITY_OBJECT = "SW_Activity__c"
ACTIVITY_KEY = "SW_Activity_Id__c"


def refresh_snapshots(obj, records, written):
    """Keep the send-up's snapshot in step with what the sync itself wrote.

    `written` maps record id to the fields written. A record the sync did not write keeps
    its snapshot (a user's change not yet sent up must still be noticed); a record never seen
    gets one, so it is only sent up when it changes later.
    """
    known = RecordSnapshot.objects.in_bulk([r["Id"] for r in records], field_name="salesforce_id")
    create, update = [], []
    for record in records:
        snap = known.get(record["Id"])
        diff = written.get(record["Id"]) or {}
        if snap is None:
            create.append(
                RecordSnapshot(
                    salesforce_id=record["Id"],
                    object=obj,
                    **RecordSnapshot.values_of(record | diff),
                )
            )
        elif diff:
            for attr, field in RecordSnapshot.SF_FIELDS.items():
                if field in diff:
                    setattr(snap, attr, RecordSnapshot.values_of(diff | {"Id": ""})[attr])
            update.append(snap)
    RecordSnapshot.objects.bulk_create(create, ignore_conflicts=True)
    update_rows(update, ["favorite", "prospect_id"])


class MatchProspects(Step):
    # Larger than the framework's 200: the e-mail IN-lists are cut by SOQL's length limit
    # (~400 addresses a query), so 1,000 prospects a batch fill its queries; the writes go
    # 200 a call whatever this is.
    default_batch_size = 1000
    obj = ""
    side = ""
    condition = ""
    activity_lookup = ""

    def run(self, ctx):
        sf = clients.salesforce()
        tags = tag_names()
        score_fields = person_score_fields(self.obj)
        fields = ["Id", "Email", "FirstName", "LastName", "OwnerId", *PERSON_FIELDS]
        fields += list(score_fields.values())
        soql = (
            f"SELECT {soql_fields(fields)} FROM {self.obj} "
            f"WHERE {self.condition}Email IN ({{values}})"
        )
        pending = Prospect.objects.pending_for(self.side, ctx.options.max_sync_attempts)
        for prospects in keyset(pending, ctx.batch_size):
            with ctx.batch() as batch:
                self.match(ctx, sf, batch, prospects, soql, tags, score_fields)

    def match(self, ctx, sf, batch, prospects, soql, tags, score_fields):
        batch.examined += len(prospects)
        # Two prospects with one e-mail would fight over the same records: the newest wins.
        owner = {}
        for p in sorted(prospects, key=lambda p: p.seq):
            owner[p.email_key] = p
        found = defaultdict(list)
        records = list(sf.query_in(soql, sorted(owner)))
        for record in records:
            key = (record.get("Email") or "").lower()
            if key in owner:
                found[key].append(record)

        updates, written = [], {}
        for key, prospect in owner.items():
            desired = prospect_values(prospect, tags, score_fields)
            for record in found.get(key, []):
                diff = changes(record, desired)
                if diff:
                    updates.append({"Id": record["Id"], **diff})
                    written[record["Id"]] = diff
        outcome = write(sf, batch, self.obj, updates)
        written = {rid: diff for rid, diff in written.items() if outcome.get(rid) is None}

        activity_errors, synced_activities = {}, []
        if ctx.options.activity_sync:
            activity_errors, synced_activities = self.push_activities(
                sf, batch, prospects, owner, found
            )

        max_attempts = ctx.options.max_sync_attempts
        with transaction.atomic():
            for prospect in prospects:
                mine = (
                    found.get(prospect.email_key, [])
                    if owner.get(prospect.email_key) is prospect
                    else []
                )
                ids = sorted(r["Id"] for r in mine)
                setattr(prospect, f"matched_{self.side}_ids", ids)
                errors = [outcome[i] for i in ids if outcome.get(i)]
                errors += activity_errors.get(prospect.pk, [])
                if owner.get(prospect.email_key) is not prospect:
                    errors = []  # its e-mail belongs to a newer prospect: nothing to write
                if errors:
                    attempts = getattr(prospect, f"{self.side}_sync_attempts") + 1
                    setattr(prospect, f"{self.side}_sync_attempts", attempts)
                    message = "; ".join(errors)
                    if attempts >= max_attempts:
                        message += (
                            f" (given up after {attempts} attempts; a Full Synchronization "
                            "tries again)"
                        )
                    prospect.last_error = message[:2000]
                else:
                    setattr(prospect, f"{self.side}_pending", False)
            update_rows(
                prospects,
                [
                    f"matched_{self.side}_ids",
                    f"{self.side}_sync_attempts",
                    f"{self.side}_pending",
                    "last_error",
                ],
            )
            Prospect.objects.filter(
                pk__in=[p.pk for p in prospects],
                lead_pending=False,
                contact_pending=False,
                sync_status=SyncStatus.NOT_PROCESSED,
            ).update(sync_status=SyncStatus.PROCESSED, last_error="")
            Activity.objects.filter(pk__in=synced_activities).update(
                **{f"{self.side}_synced": True}
            )
            refresh_snapshots(self.obj, records_of(found), written)

    def push_activities(self, sf, batch, prospects, owner, found):
        """Upsert the batch's new activities as SW Activity records linked to the record."""
        flag = f"{self.side}_synced"
        activities = list(
            Activity.objects.filter(prospect__in=prospects, **{flag: False}).select_related(
                "prospect"
            )
        )
        errors, synced, rows, row_activity = defaultdict(list), [], [], []
        for activity in activities:
            prospect = activity.prospect
            mine = found.get(prospect.email_key, [])
            if owner.get(prospect.email_key) is None or not mine:
                synced.append(activity.pk)  # no record to link it to: nothing to write
                continue
            rows.append(
                {
                    ACTIVITY_KEY: activity.backend_id,
                    "SW_Prospect_Id__c": prospect.backend_id,
                    self.activity_lookup: min(r["Id"] for r in mine),
                    "Type__c": activity.type,
                    "Occurred_At__c": sf_datetime(activity.occurred_at),
                    "URL__c": activity.url or None,
                    "Title__c": activity.title or None,
                }
            )
            row_activity.append(activity)
        if rows:
            results = sf.upsert(ACTIVITY_OBJECT, ACTIVITY_KEY, rows)
            for activity, result in zip(row_activity, results, strict=True):
                if result.success:
                    batch.modified += 1
                    synced.append(activity.pk)
                else:
                    message = f"SW Activity {activity.backend_id}: {describe_failure(result)}"
                    batch.record_failure(message)
                    errors[activity.prospect_id].append(message)
        return errors, synced


def records_of(found):
    return [r for records in found.values() for r in records]


class MatchProspectsToLeads(MatchProspects):
    name = "MatchProspectsToLeads"
    obj = "Lead"
    side = "lead"
    # Converted Leads are never written.
    condition = "IsConverted = false AND "
    activity_lookup = "Lead__c"


class MatchProspectsToContacts(MatchProspects):
    name = "MatchProspectsToContacts"
    obj = "Contact"
    side = "contact"
    condition = ""
    activity_lookup = "Contact__c"
