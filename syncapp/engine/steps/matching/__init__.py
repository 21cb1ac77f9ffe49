"""MatchProspectsToLeads and MatchProspectsToContacts.

Per batch of `Not Processed` prospects: the batch's Leads (Contacts) by e-mail, then one
collection update per 200 records that really change (compared with what was read), then, with
activity sync on, an upsert of their new activities; and only after those writes the
prospects' statuses are committed. A crash repeats the batch; the compare makes that cheap.

Two ways to read the batch's records, chosen per step run by what they cost in API calls:
- IN mode (in_mode.py): one chunked `Email IN (...)` query per batch (SOQL's URI limit holds
  ~400 addresses a statement, so ~N/400 calls);
- scan mode (scan_mode.py): when that would cost more than reading the whole object (rows /
  2,000 pages), the object is read once, page by page, and each page is matched as it comes:
  its e-mails' pending prospects are looked up by the e-mail index (lookup.py), the records
  that really change are written in whole collection calls of 200 (what does not fill a call
  waits for the next page), and each matched record's outcome is kept in a local table
  (`MatchScanHit`, on disk: memory stays bounded by a page and a call). A prospect's records
  may be on several pages, so its status is settled from that table once the whole object was
  read; a step that stops before that leaves every prospect pending (the next run's compare
  makes the repeat cheap).
Both modes compare and write the same way (`person_values`, `changes`; writes.py), and upsert
activities the same way (activities.py). What SQL differs by database is in sql.py.
"""

import math

from django.conf import settings

from syncapp.engine import clients
from syncapp.engine.steps.common import (
    PERSON_FIELDS,
    PersonStep,
    person_score_fields,
    soql_fields,
    tag_names,
)
from syncapp.engine.steps.matching.in_mode import InMode
from syncapp.engine.steps.matching.scan_mode import QUERY_PAGE, ScanMode
from syncapp.models import Prospect

# Below this many estimated IN-query calls a scan cannot win (it costs a COUNT plus at least
# one page), so the COUNT is not even asked.
SCAN_MIN_IN_CALLS = 3

__all__ = ["MatchProspects", "MatchProspectsToContacts", "MatchProspectsToLeads"]


class MatchProspects(PersonStep):
    # Larger than the framework's 200: the e-mail IN-lists are cut by SOQL's length limit
    # (~400 addresses a query), so 1,000 prospects a batch fill its queries; the writes go
    # 200 a call whatever this is.
    default_batch_size = 1000
    # The SW Activity field that links an activity to this side's record.
    activity_lookup = ""
    # Leads and Contacts are matched side by side (two async jobs, `PersonStep`): each side
    # writes only its own object and its own columns of the prospects, and the writes of
    # their statuses are serialized (`bulk.lock_prospect_statuses`). Each side is a lane: its
    # Clean step follows it as soon as it ends (steps/cleaning.py).

    def group(self, options):
        # With activity sync on, both sides upsert the same SW Activity records (one per
        # activity, linked to its Lead and to its Contact) by their external id: two upserts
        # of a new id at once can both try to create it (DUPLICATE_VALUE in Salesforce). So
        # then they run one after the other.
        return "" if options.activity_sync else self.parallel_group

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
        if self.choose_scan(sf, pending, soql, ctx.batch_size):
            self.run_scan(ctx, sf, fields, tags, score_fields)
        else:
            self.run_in(ctx, sf, soql, tags, score_fields, pending)

    def run_in(self, ctx, sf, soql, tags, score_fields, pending):
        InMode(self, ctx, sf, soql, tags, score_fields).run(pending)

    def run_scan(self, ctx, sf, fields, tags, score_fields):
        ScanMode(self, ctx, sf, score_fields).run(fields, tags)

    def choose_scan(self, sf, pending, soql, batch_size):
        """Scan when reading the whole object costs fewer calls than the batches' IN queries.

        The IN cost is estimated from the first batch's e-mails (the client's own chunking)
        times the number of batches; the scan's is the object's rows (a COUNT, asked only when
        a scan could win) over 2,000-row pages.
        """
        mode = getattr(settings, "SWSTUDIO_MATCH_READ", "auto")
        if mode != "auto":
            return mode == "scan"
        total = pending.count()
        if not total:
            return False
        sample = list(pending.order_by("pk").values_list("email_key", flat=True)[:batch_size])
        per_batch = sf.in_statements(soql, sample)
        full, rest = divmod(total, len(sample))
        in_calls = full * per_batch + (math.ceil(per_batch * rest / len(sample)) if rest else 0)
        if in_calls < SCAN_MIN_IN_CALLS:
            return False
        rows = sf.count(f"SELECT COUNT() FROM {self.obj} WHERE {self.condition}Email != null")
        scan_calls = max(1, math.ceil(rows / QUERY_PAGE))
        return scan_calls < in_calls


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
