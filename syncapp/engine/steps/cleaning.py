"""CleanLeads, CleanContacts, CleanOtherRecords and CleanProspects.

A Lead/Contact is cleaned (every SalesWings field null / false) when the prospect its
`SW_Prospect_Id__c` names is merged, deleted, unknown, or no longer has the record's e-mail.
Sources of candidates, so a quiet cycle reads almost nothing:
- the records of prospects flagged by GetProspects (gone, or e-mail changed);
- records holding a prospect id that changed in Salesforce (someone edited an e-mail there):
  - while the send-up runs (Disable Triggers off), it reads every such record anyway, the
    sync's own writes included, at the start of each cycle: it notes the obsolete ones
    (`CleanCandidate`, `note_candidates`) and the Clean step reads just those again by Id.
    No scan of its own, so the records the Match step has just written are not read twice.
    An e-mail edited between the Match step's read and its write is noted by the next cycle's
    send-up and cleaned then (one cycle later than a scan after Match would);
  - otherwise (send-up off or not completed in this cycle, a Full Synchronization, or before
    the send-up noted from the start) a scan of the records stamped since the last scan,
    every such record on the first run and on a Full Synchronization.
"""

from syncapp import bulk
from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.common import (
    PERSON_FIELDS,
    PROSPECT_ID,
    TAGS,
    TEMPERATURE,
    PersonStep,
    account,
    chunked,
    cleared_values,
    keyset,
    parse_datetime,
    person_score_fields,
    soql_datetime,
    soql_fields,
    write,
)
from syncapp.models import (
    CleanCandidate,
    FieldMapping,
    HeldRecord,
    Lifecycle,
    Prospect,
    RecordSnapshot,
    SyncCursor,
)
from syncapp.models.statuses import StepStatus

# The send-up's watermark of each object, and from when it noted clean candidates ("*": from
# its first run, which reads every record holding a prospect id).
SENDUP_STEP = "UpdateToSalesWings"
SENDUP_CURSOR = "sendup:{}"
NOTED_CURSOR = "sendup:{}:noted"
# CleanOtherRecords has swept an object for a part's data written before its ledger.
SWEPT_CURSOR = "clean-other:{}:{}:swept"


def obsolete_records(records):
    """The records whose prospect no longer applies to them (merged, deleted, unknown, or no
    longer holding the record's e-mail)."""
    ids = sorted({i for r in records if isinstance(i := r.get(PROSPECT_ID), str)})
    # Plain SQL: the send-up runs this over every record it reads, after a large cycle every
    # record the sync wrote.
    fields = ("backend_id", "lifecycle", "email_key")
    prospects = {
        backend_id: (lifecycle, email_key)
        for backend_id, lifecycle, email_key in bulk.select_by_keys(
            Prospect, fields, "backend_id", ids
        )
    }
    out = []
    for record in records:
        lifecycle, email_key = prospects.get(record.get(PROSPECT_ID), (None, None))
        if lifecycle != Lifecycle.ACTIVE or email_key != (record.get("Email") or "").lower():
            out.append(record)
    return out


def start_noting(obj, since):
    """The send-up is about to read `obj` from `since` (None: everything): from then on the
    records it reads are checked for cleaning."""
    if SyncCursor.get(NOTED_CURSOR.format(obj), None) is None:
        SyncCursor.put(NOTED_CURSOR.format(obj), since or "*")


def note_candidates(obj, records):
    """Keep the obsolete ones among records the send-up read, for the Clean step (in the
    send-up's transaction that moves its watermark past them)."""
    bulk.insert(
        CleanCandidate,
        [{"object": obj, "salesforce_id": r["Id"]} for r in obsolete_records(records)],
        unique=["object", "salesforce_id"],
    )


def watched_by_sendup(obj, since, ctx):
    """The send-up's watermark when it has checked every record the Clean scan would read
    (from `since`), else None. Only when the send-up completed in this very cycle: switched
    off (Disable Triggers, its Workflow Option) or failing, it would leave edits unchecked."""
    if ctx.full_sync or ctx.options.disable_triggers:
        return None
    sendup = next((s for s in ctx.cycle.steps if s.get("name") == SENDUP_STEP), None)
    if sendup is None or sendup.get("status") != StepStatus.COMPLETED:
        return None
    watermark = SyncCursor.get(SENDUP_CURSOR.format(obj), None)
    noted = SyncCursor.get(NOTED_CURSOR.format(obj), None)
    if not watermark or not noted:
        return None
    if noted == "*" or (since and parse_datetime(since) >= parse_datetime(noted)):
        return watermark
    return None


class CleanPersons(PersonStep):
    # Each batch makes one chunked `IN (...)` read: SOQL's URI limit holds ~600 Ids (or
    # prospect ids) a statement, so 200 a batch spent a query call per 200; 1,000 fills the
    # statements (2 per batch). Writes still go 200 a collection call.
    default_batch_size = 1000
    # Leads and Contacts are cleaned side by side (two async jobs, `PersonStep`), as they are
    # matched: each side writes only its own object, its own snapshots and candidates, and
    # its own columns of the prospects (plus `sync_status`, set to Not Processed by either: a
    # Match step of the other side still running leaves such a prospect pending); the writes
    # of prospects' statuses are serialized (`bulk.lock_prospect_statuses`). In the Match steps'
    # group and lane of their side: CleanLeads starts when MatchProspectsToLeads ends (with
    # activity sync on, the Match steps run alone and the two Clean steps form the group by
    # themselves).

    def run(self, ctx):
        sf = clients.salesforce()
        score_fields = person_score_fields(self.obj)
        clear = cleared_values(score_fields)
        fields = soql_fields(["Id", "Email", PROSPECT_ID, "SystemModstamp"])
        flag = f"{self.side}_clean_pending"

        by_prospect = (
            f"SELECT {fields} FROM {self.obj} WHERE {self.condition}{PROSPECT_ID} IN ({{values}})"
        )
        # Only the id: whole prospects (JSON decoded) cost more than the reads.
        flagged = Prospect.objects.filter(**{flag: True}).only("backend_id")
        for prospects in keyset(flagged, ctx.batch_size):
            with ctx.batch() as batch:
                batch.examined += len(prospects)
                records = list(sf.query_in(by_prospect, [p.backend_id for p in prospects]))
                failed = self.clean(ctx, sf, batch, records, clear)
                failed_prospects = {r.get(PROSPECT_ID) for r in failed}
                done = [p.pk for p in prospects if p.backend_id not in failed_prospects]
                with ctx.fenced():
                    bulk.lock_prospect_statuses()
                    Prospect.objects.filter(pk__in=done).mark_cleaned(self.side)

        # The send-up's candidates, read again: the Match step may have filled them since.
        # (Those already cleaned above no longer hold a prospect id.)
        by_id = (
            f"SELECT {fields} FROM {self.obj} "
            f"WHERE {self.condition}{PROSPECT_ID} != null AND Id IN ({{values}})"
        )
        candidates = CleanCandidate.objects.filter(object=self.obj)
        for rows in keyset(candidates, ctx.batch_size):
            with ctx.batch() as batch:
                batch.examined += len(rows)
                records = list(sf.query_in(by_id, [c.salesforce_id for c in rows]))
                failed = {r["Id"] for r in self.clean(ctx, sf, batch, records, clear)}
                with ctx.fenced():
                    CleanCandidate.objects.filter(
                        pk__in=[c.pk for c in rows if c.salesforce_id not in failed]
                    ).delete()

        cursor = f"clean:{self.obj}"
        since = None if ctx.full_sync else SyncCursor.get(cursor, None)
        watermark = watched_by_sendup(self.obj, since, ctx)
        if watermark:
            # Everything stamped before the send-up's watermark was read and checked by it.
            if ctx.entry["batches_failed"] == 0 and (
                not since or parse_datetime(watermark) > parse_datetime(since)
            ):
                with ctx.fenced():
                    SyncCursor.put(cursor, watermark)
            return
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
                all_ok &= not self.clean(ctx, sf, batch, records, clear, checked=True)
        if all_ok and ctx.entry["batches_failed"] == 0 and newest and newest != since:
            with ctx.fenced():
                SyncCursor.put(cursor, newest)

    def obsolete(self, records):
        return obsolete_records(records)

    def clean(self, ctx, sf, batch, records, clear, checked=False):
        """Clear the obsolete ones among `records`; returns the records whose clean failed."""
        doomed = records if checked else self.obsolete(records)
        outcome = write(sf, batch, self.obj, [{"Id": r["Id"], **clear} for r in doomed])
        failed = [r for r in doomed if outcome.get(r["Id"])]
        cleared = [r for r in doomed if not outcome.get(r["Id"])]
        with ctx.fenced():
            bulk.lock_prospect_statuses()
            RecordSnapshot.objects.filter(salesforce_id__in=[r["Id"] for r in cleared]).delete()
            # A cleared record whose e-mail belongs to another active prospect is that
            # prospect's to fill: write it again next cycle.
            emails = {(r.get("Email") or "").lower() for r in cleared} - {""}
            if emails:
                Prospect.objects.filter(
                    email_key__in=emails, lifecycle=Lifecycle.ACTIVE
                ).requeue_side(self.side)
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
    """Leftovers on Accounts and Opportunities whose option is off.

    SOQL cannot filter on the long text tags field (a real org answers INVALID_FIELD), so
    the step does not ask the org which records hold data: it clears the records the sync
    wrote (`HeldRecord`, noted by the aggregation and Opportunity steps) and forgets them.
    Data written before that ledger existed (an upgrade, or the Salesforce package) is found
    once per part by a sweep that reads the records and filters them here; it is recorded
    (`SWEPT_CURSOR`) so no later cycle repeats it.
    """

    name = "CleanOtherRecords"
    # Outcomes after which a record holds no data of ours any more (it is gone).
    GONE = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"}

    def targets(self, options):
        """[(object, ledger part, fields to clear)] of every part whose option is off."""
        aggregation = options.account_aggregation
        out = []
        if not aggregation:
            fields = [TAGS, TEMPERATURE, *FieldMapping.fields_for("Account").values()]
            out.append(("Account", HeldRecord.ACCOUNT_AGGREGATES, fields))
        if not (aggregation and options.opportunity_tags):
            out.append(("Opportunity", HeldRecord.OPPORTUNITY_TAGS, [TAGS]))
        if not (aggregation and options.opportunity_scores):
            fields = list(FieldMapping.fields_for("Opportunity").values())
            out.append(("Opportunity", HeldRecord.OPPORTUNITY_SCORES, fields))
        return [(obj, part, list(dict.fromkeys(f))) for obj, part, f in out if f]

    def run(self, ctx):
        sf = clients.salesforce()
        for obj, part, fields in self.targets(ctx.options):
            swept = SWEPT_CURSOR.format(obj, part)
            if not SyncCursor.get(swept, None):
                self.sweep(sf, obj, part, fields)
                SyncCursor.put(swept, "done")
            held = HeldRecord.objects.of(obj, part)
            for rows in keyset(held, ctx.batch_size):
                with ctx.batch() as batch:
                    batch.examined += len(rows)
                    ids = [r.salesforce_id for r in rows]
                    updates = [{"Id": i, **dict.fromkeys(fields)} for i in ids]
                    results = sf.update(obj, updates)
                    account(batch, obj, updates, results)
                    done = [
                        i
                        for i, result in zip(ids, results, strict=True)
                        if result.success or self.GONE.intersection(result.codes)
                    ]
                    held.filter(salesforce_id__in=done).forget()

    def sweep(self, sf, obj, part, fields):
        """Note every record of `obj` holding one of `fields` (read whole, filtered here:
        the tags field cannot be filtered in SOQL; the others can)."""
        where = ""
        if TAGS not in fields:
            where = " WHERE " + " OR ".join(f"{f} != null" for f in fields)
        query = sf.query(
            f"SELECT {soql_fields(['Id', *fields])} FROM {obj}{where}", read_ahead=True
        )
        for records in chunked(query, 2000):
            ids = [r["Id"] for r in records if any(r.get(f) not in (None, "") for f in fields)]
            HeldRecord.objects.note(obj, part, ids)


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
                # Only the keys: the deletion's collector otherwise loads whole prospects
                # (their JSON decoded) to delete them.
                with ctx.fenced():
                    deleted = (
                        Prospect.objects.filter(pk__in=[p.pk for p in prospects])
                        .only("pk")
                        .delete()
                    )
                batch.modified += deleted[1].get(Prospect._meta.label, 0)


__all__ = ["PERSON_FIELDS"]
