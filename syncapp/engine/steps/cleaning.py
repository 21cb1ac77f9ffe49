"""CleanLeads, CleanContacts, CleanOtherRecords and CleanProspects.

A Lead/Contact is cleaned (every SalesWings field null / false) when the prospect its
`SW_Prospect_Id__c` names is merged, deleted, unknown, or no longer has the record's e-mail.
Two sources of candidates, so a quiet cycle reads almost nothing:
- the records of prospects flagged by GetProspects (gone, or e-mail changed);
- records holding a prospect id that changed in Salesforce since the last scan (someone edited
  an e-mail there), every such record on the first run and on a Full Synchronization.
"""

from django.db import transaction

from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.common import (
    PERSON_FIELDS,
    PROSPECT_ID,
    TAGS,
    TEMPERATURE,
    chunked,
    cleared_values,
    keyset,
    person_score_fields,
    soql_datetime,
    soql_fields,
    write,
)
from syncapp.models import FieldMapping, Lifecycle, Prospect, RecordSnapshot, SyncCursor, SyncStatus


class CleanPersons(Step):
    # Each batch makes one chunked `IN (...)` read: SOQL's URI limit holds ~600 Ids (or
    # prospect ids) a statement, so 200 a batch spent a query call per 200; 1,000 fills the
    # statements (2 per batch). Writes still go 200 a collection call.
    default_batch_size = 1000
    obj = ""
    side = ""
    condition = ""

    def run(self, ctx):
        sf = clients.salesforce()
        score_fields = person_score_fields(self.obj)
        clear = cleared_values(score_fields)
        fields = soql_fields(["Id", "Email", PROSPECT_ID, "SystemModstamp"])
        flag = f"{self.side}_clean_pending"

        by_prospect = (
            f"SELECT {fields} FROM {self.obj} WHERE {self.condition}{PROSPECT_ID} IN ({{values}})"
        )
        for prospects in keyset(Prospect.objects.filter(**{flag: True}), ctx.batch_size):
            with ctx.batch() as batch:
                batch.examined += len(prospects)
                records = list(sf.query_in(by_prospect, [p.backend_id for p in prospects]))
                failed = self.clean(sf, batch, records, clear)
                done = [p.pk for p in prospects if p.backend_id not in failed]
                Prospect.objects.filter(pk__in=done).update(**{flag: False})

        cursor = f"clean:{self.obj}"
        since = None if ctx.full_sync else SyncCursor.get(cursor, None)
        where = f"{self.condition}{PROSPECT_ID} != null"
        if since:
            # >= rather than >: records stamped in the same instant as the last one seen are
            # read again (harmless) instead of missed.
            where += f" AND SystemModstamp >= {soql_datetime(since)}"
        scan = f"SELECT {fields} FROM {self.obj} WHERE {where} ORDER BY SystemModstamp"
        # Decide while streaming, write afterwards: writing moves records in the query's
        # order, and what needs cleaning is the small part of what is read.
        newest, doomed, all_ok = since, [], True
        for records in chunked(sf.query(scan, read_ahead=True), ctx.batch_size):
            with ctx.batch() as batch:
                batch.examined += len(records)
                doomed += self.obsolete(records)
                newest = max([newest or ""] + [r["SystemModstamp"] for r in records]) or None
        for records in chunked(doomed, ctx.batch_size):
            with ctx.batch() as batch:
                all_ok &= not self.clean(sf, batch, records, clear, checked=True)
        if all_ok and ctx.entry["batches_failed"] == 0 and newest and newest != since:
            SyncCursor.put(cursor, newest)

    def obsolete(self, records):
        """The records whose prospect no longer applies to them."""
        ids = {r.get(PROSPECT_ID) for r in records}
        prospects = {
            p["backend_id"]: p
            for p in Prospect.objects.filter(backend_id__in=ids).values(
                "backend_id", "lifecycle", "email_key"
            )
        }
        out = []
        for record in records:
            p = prospects.get(record.get(PROSPECT_ID))
            if (
                p is None
                or p["lifecycle"] != Lifecycle.ACTIVE
                or p["email_key"] != (record.get("Email") or "").lower()
            ):
                out.append(record)
        return out

    def clean(self, sf, batch, records, clear, checked=False):
        """Clear the obsolete ones among `records`; returns the prospect ids whose clean failed."""
        doomed = records if checked else self.obsolete(records)
        outcome = write(sf, batch, self.obj, [{"Id": r["Id"], **clear} for r in doomed])
        failed = {r.get(PROSPECT_ID) for r in doomed if outcome.get(r["Id"])}
        cleared = [r for r in doomed if not outcome.get(r["Id"])]
        with transaction.atomic():
            RecordSnapshot.objects.filter(salesforce_id__in=[r["Id"] for r in cleared]).delete()
            # A cleared record whose e-mail belongs to another active prospect is that
            # prospect's to fill: write it again next cycle.
            emails = {(r.get("Email") or "").lower() for r in cleared} - {""}
            if emails:
                Prospect.objects.filter(email_key__in=emails, lifecycle=Lifecycle.ACTIVE).update(
                    sync_status=SyncStatus.NOT_PROCESSED,
                    **{f"{self.side}_pending": True, f"{self.side}_sync_attempts": 0},
                )
        return failed


class CleanLeads(CleanPersons):
    name = "CleanLeads"
    obj = "Lead"
    side = "lead"
    condition = "IsConverted = false AND "


class CleanContacts(CleanPersons):
    name = "CleanContacts"
    obj = "Contact"
    side = "contact"


class CleanOtherRecords(Step):
    """Leftovers on Accounts and Opportunities whose option is off."""

    name = "CleanOtherRecords"

    def targets(self, options):
        aggregation = options.account_aggregation
        out = []
        if not aggregation:
            fields = [TAGS, TEMPERATURE, *FieldMapping.fields_for("Account").values()]
            out.append(("Account", fields))
        opp = []
        if not (aggregation and options.opportunity_tags):
            opp.append(TAGS)
        if not (aggregation and options.opportunity_scores):
            opp += FieldMapping.fields_for("Opportunity").values()
        if opp:
            out.append(("Opportunity", opp))
        return out

    def run(self, ctx):
        sf = clients.salesforce()
        for obj, fields in self.targets(ctx.options):
            fields = list(dict.fromkeys(fields))
            where = " OR ".join(f"{f} != null" for f in fields)
            ids = []
            query = sf.query(f"SELECT Id FROM {obj} WHERE {where}", read_ahead=True)
            for records in chunked(query, 2000):
                ids += [r["Id"] for r in records]
            for chunk in chunked(ids, ctx.batch_size):
                with ctx.batch() as batch:
                    batch.examined += len(chunk)
                    write(sf, batch, obj, [{"Id": i, **dict.fromkeys(fields)} for i in chunk])


class CleanProspects(Step):
    """Deletes merged and deleted prospects once no Lead or Contact holds their data."""

    name = "CleanProspects"

    def run(self, ctx):
        obsolete = Prospect.objects.exclude(lifecycle=Lifecycle.ACTIVE).filter(
            lead_clean_pending=False, contact_clean_pending=False
        )
        for prospects in keyset(obsolete.only("pk"), ctx.batch_size):
            with ctx.batch() as batch:
                batch.examined += len(prospects)
                deleted = Prospect.objects.filter(pk__in=[p.pk for p in prospects]).delete()
                batch.modified += deleted[1].get(Prospect._meta.label, 0)


__all__ = ["PERSON_FIELDS"]
