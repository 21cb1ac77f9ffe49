"""Scan mode of the Match steps: the same org state as IN mode, chosen when it is cheaper."""

import copy
import itertools
import threading
import time

import pytest
from django.db import transaction

from syncapp.engine.steps import matching
from syncapp.engine.steps.matching import activities, writes
from syncapp.models import (
    MalformedItem,
    MatchScanHit,
    Prospect,
    StudioOptions,
    SyncStatus,
    WorkflowOption,
)
from syncapp.models.statuses import CycleStatus
from syncapp.salesforce import SalesforceError
from syncapp.salesforce.errors import TransientError
from tests.fakes import IN_CHUNK, PAGE
from tests.steps.expect import expected_people, held

pytestmark = pytest.mark.django_db


def force(monkeypatch, scan):
    monkeypatch.setattr(
        matching.MatchProspects, "choose_scan", lambda self, *a, **k: scan, raising=True
    )


def org_state(sf):
    return {
        obj: {rid: {k: v for k, v in r.items() if k != "SystemModstamp"} for rid, r in recs.items()}
        for obj, recs in sf.db.items()
    }


def busier(world):
    """More prospects and records: several batches, one e-mail shared by prospects of two
    batches, mixed-case e-mails, several records per e-mail, records already up to date."""
    sw, sf = world.sw, world.sf
    for i in range(12):
        sw.put_prospect(
            id=f"p_x{i}",
            email=f"x{i}@example.com",
            temperature=["Hot", "Warm", "Cold"][i % 3],
            tags=["tag_blog"] if i % 2 else [],
            scores={"engagement": i},
        )
        sf.add("Lead", Email=f"X{i}@Example.com", LastName=f"X{i}", Company="X")
        if i % 3 == 0:
            sf.add("Contact", Email=f"x{i}@example.com", LastName=f"X{i}")
            sf.add("Contact", Email=f"x{i}@EXAMPLE.com", LastName=f"X{i}b")
    # A newer prospect with Ada's e-mail, in a later batch: it must win in both modes.
    sw.put_prospect(id="p_ada2", email="Ada@example.com", temperature="Warm", tags=["tag_blog"])
    WorkflowOption.objects.create(step="MatchProspectsToLeads", batch_size=3)
    WorkflowOption.objects.create(step="MatchProspectsToContacts", batch_size=3)


def test_scan_and_in_modes_leave_the_same_org(world, monkeypatch):
    busier(world)
    sf = world.sf
    saved = copy.deepcopy(sf.db), sf.last_stamp
    runs = {}
    for scan in (False, True):
        force(monkeypatch, scan)
        point = transaction.savepoint()
        sf.db, sf.last_stamp = copy.deepcopy(saved[0]), saved[1]
        sf.writes = []
        cycle = world.cycle()
        assert cycle.status == CycleStatus.COMPLETED, cycle.steps
        expected = expected_people(sf, world.sw)
        for rid, values in expected.items():
            assert held(sf.get(rid)) == values, (scan, rid)
        runs[scan] = (
            org_state(sf),
            # A record two batches' prospects share is written once in scan mode (carried).
            {(o, i) for o, i, _ in sf.writes},
            sorted(Prospect.objects.values_list("backend_id", "sync_status", "last_error")),
            # p_ada's e-mail went to the newer p_ada2: the IN mode's batch of p_ada still lists
            # the record it wrote before p_ada2's batch took it over; scan mode, which handles
            # them together, does not. Every other prospect lists the same records.
            sorted(
                Prospect.objects.exclude(backend_id="p_ada").values_list(
                    "backend_id", "matched_lead_ids", "matched_contact_ids"
                )
            ),
        )
        assert not MatchScanHit.objects.exists()  # the scan's table is emptied
        transaction.savepoint_rollback(point)
    assert runs[True] == runs[False]


def test_a_second_cycle_in_scan_mode_writes_nothing(world, monkeypatch):
    busier(world)
    force(monkeypatch, True)
    world.cycle()
    before = len(world.sf.writes)
    world.sw.put_prospect(**world.sw.prospect("p_x1"))  # fetched again, unchanged
    cycle = world.cycle()
    assert cycle.status == CycleStatus.COMPLETED
    assert [w for w in world.sf.writes[before:] if w[0] in ("Lead", "Contact")] == []


def pending_prospects(n):
    Prospect.objects.bulk_create(
        [
            Prospect(
                backend_id=f"p_{i}",
                seq=i,
                email=f"u{i}@example.com",
                email_key=f"u{i}@example.com",
                sync_status=SyncStatus.NOT_PROCESSED,
                lead_pending=True,
                lifecycle="Active",
            )
            for i in range(n)
        ]
    )
    return Prospect.objects.pending_for("lead", 5)


def choose(world, n_pending, n_leads, batch_size=1000):
    for i in range(n_leads):
        world.sf.add("Lead", Email=f"lead{i}@example.com", LastName="L", Company="X")
    step = matching.MatchProspectsToLeads()
    calls = world.sf.calls
    scan = step.choose_scan(
        world.sf,
        pending_prospects(n_pending),
        "SELECT Id FROM Lead WHERE Email IN ({values})",
        batch_size,
    )
    return scan, world.sf.calls - calls


def test_scan_is_chosen_when_it_costs_fewer_calls(world):
    # 3 IN statements a batch (IN_CHUNK 300) against one page of Leads.
    assert choose(world, 3 * IN_CHUNK, 10) == (True, 1)


def test_in_queries_are_kept_when_the_object_is_larger(world):
    # 3 IN statements against 2 pages... and more: the scan is dearer.
    assert choose(world, 3 * IN_CHUNK, 3 * PAGE) == (False, 1)


def test_few_pending_prospects_never_ask_for_the_count(world):
    assert choose(world, IN_CHUNK, 10) == (False, 0)
    assert Prospect.objects.count() == IN_CHUNK


def test_scan_mode_writes_full_calls_and_carries_the_rest(world, monkeypatch):
    """Batches of 3 prospects, each well under 200 updates: every batch is carried into the
    next, so the whole step writes in ceil(updates / 200) calls, and the result is right."""
    busier(world)
    force(monkeypatch, True)
    calls = []
    real_update = world.sf.update

    def counting_update(obj, records):
        calls.append((obj, len(records)))
        return real_update(obj, records)

    world.sf.update = counting_update
    cycle = world.cycle()
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    # The Match step's Lead writes come before any Contact write (the Clean steps come later).
    match_calls = list(itertools.takewhile(lambda c: c[0] == "Lead", calls))
    assert match_calls == [("Lead", cycle.step("MatchProspectsToLeads")["modified"])]
    step = cycle.step("MatchProspectsToLeads")
    assert (
        step["examined"]
        == Prospect.objects.filter(lifecycle="Active").exclude(email_key="").count()
    )
    for rid, values in expected_people(world.sf, world.sw).items():
        assert held(world.sf.get(rid)) == values, rid


def test_daily_limit_in_scan_mode_keeps_the_data_pending_and_the_next_cycle_converges(
    world, monkeypatch
):
    busier(world)
    force(monkeypatch, True)
    world.sf.limit_left = 3  # send-up (2) and the Lead scan (1): the writes are refused

    cycle = world.cycle()
    step = cycle.step("MatchProspectsToLeads")
    assert any("REQUEST_LIMIT_EXCEEDED" in e for e in step["errors"]), step
    assert Prospect.objects.filter(lead_pending=True, sync_status=SyncStatus.NOT_PROCESSED).exists()
    assert not MatchScanHit.objects.exists()

    world.sf.limit_left = None
    cycle = world.cycle()
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    for rid, values in expected_people(world.sf, world.sw).items():
        assert held(world.sf.get(rid)) == values, rid


def test_a_later_batch_sees_what_an_earlier_batch_wrote_to_a_shared_record(world, monkeypatch):
    # Two prospects with one e-mail in consecutive batches: the later (newer) one must be
    # compared with what the earlier one wrote, not with what the record held before. The
    # write-behind sends a batch's write on another thread while the next batch is read; here
    # that write is slow, so the next batch would read the record before it landed, unless the
    # step finishes a batch whose e-mail a later prospect shares before reading on.
    force(monkeypatch, False)  # IN mode: scan mode would carry both into one write
    sw, sf = world.sw, world.sf
    rid = sf.add(
        "Lead", Email="shared@example.com", LastName="S", Company="X", SW_Temperature__c="Hot"
    )
    sw.put_prospect(id="p_s1", email="shared@example.com", temperature="Cold")
    sw.put_prospect(id="p_s2", email="Shared@example.com", temperature="Hot")
    WorkflowOption.objects.create(step="MatchProspectsToLeads", batch_size=1)
    real_update = sf.update

    def slow_update(obj, records):
        time.sleep(0.2)
        return real_update(obj, records)

    monkeypatch.setattr(sf, "update", slow_update)
    cycle = world.cycle()
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    record = sf.get(rid)
    assert (record["SW_Prospect_Id__c"], record["SW_Temperature__c"]) == ("p_s2", "Hot")


def test_a_failed_call_in_scan_mode_keeps_its_prospects_pending_without_an_attempt(
    world, monkeypatch
):
    """A collection call that fails as a whole (the org unreachable after the retries): its
    records' prospects stay pending with the reason, not counted as an attempt (the org did
    not judge them); the others are settled; the next cycle writes the rest."""
    busier(world)
    force(monkeypatch, True)
    real_update = world.sf.update

    def failing_contacts(obj, records):
        if obj == "Contact":
            world.sf.transient = 99  # more than the client's retries
        return real_update(obj, records)

    world.sf.update = failing_contacts
    first = world.cycle()
    step = first.step("MatchProspectsToContacts")
    assert step["status"] == "Partially_Completed", step
    assert step["failed"] > 0 and step["modified"] == 0
    stuck = Prospect.objects.filter(contact_pending=True, sync_status=SyncStatus.NOT_PROCESSED)
    assert stuck.exists()
    assert all(p.contact_sync_attempts == 0 and "not written" in p.last_error for p in stuck)
    assert first.step("MatchProspectsToLeads")["status"] == "Completed"
    assert not Prospect.objects.filter(lead_pending=True, lifecycle="Active").exclude(email_key="")

    world.sf.transient = 0
    world.sf.update = real_update
    second = world.cycle()
    assert second.status == CycleStatus.COMPLETED, second.steps
    for rid, values in expected_people(world.sf, world.sw).items():
        assert held(world.sf.get(rid)) == values, rid
    assert not Prospect.objects.filter(
        lifecycle="Active", sync_status=SyncStatus.NOT_PROCESSED
    ).exclude(email_key="")


@pytest.mark.parametrize("in_flight", [2, 4])
def test_calls_in_flight_each_settle_their_own_records(world, monkeypatch, settings, in_flight):
    """A unit goes out as parts on several threads (SALESFORCE_WRITE_CONCURRENCY): when one
    part's call fails as a whole, the other parts' records still count as written, and only the
    failed part's prospects stay pending (without an attempt); the next cycle writes the
    rest."""
    busier(world)
    force(monkeypatch, True)
    settings.SALESFORCE_WRITE_CONCURRENCY = in_flight
    # Several calls a unit, several parts.
    monkeypatch.setattr(matching.scan_mode, "COLLECTION_SIZE", 2)
    monkeypatch.setattr(matching.writes, "COLLECTION_SIZE", 2)
    real_update = world.sf.update
    calls, lock = [], threading.Lock()

    def every_other_lead_call_fails(obj, records):
        # Decided per call, not through the fake's shared fault counter: the two parts run
        # on two threads at once.
        with lock:
            calls.append((obj, [r["Id"] for r in records]))
            fail = obj == "Lead" and sum(1 for o, _ in calls if o == "Lead") % 2 == 0
        if fail:
            raise TransientError("HTTP_503: still failing after the retries")
        return real_update(obj, records)

    world.sf.update = every_other_lead_call_fails
    first = world.cycle()
    step = first.step("MatchProspectsToLeads")
    # The Match step's Lead calls: those before its first Contact call (Clean comes later).
    match_calls = list(itertools.takewhile(lambda c: c[0] == "Lead", calls))
    failed_ids = {i for n, (_, ids) in enumerate(match_calls, 1) if n % 2 == 0 for i in ids}
    written_ids = {i for n, (_, ids) in enumerate(match_calls, 1) if n % 2 for i in ids}
    assert len(match_calls) >= 2 and failed_ids and written_ids
    assert step["modified"] == len(written_ids)
    assert step["failed"] == len(failed_ids)
    for rid in written_ids:
        assert world.sf.get(rid)["SW_Prospect_Id__c"]
    stuck = Prospect.objects.filter(lead_pending=True, lifecycle="Active").exclude(email_key="")
    assert stuck.exists()
    assert all(p.lead_sync_attempts == 0 and "not written" in p.last_error for p in stuck)

    world.sf.update = real_update
    second = world.cycle()
    assert second.status == CycleStatus.COMPLETED, second.steps
    for rid, values in expected_people(world.sf, world.sw).items():
        assert held(world.sf.get(rid)) == values, rid


@pytest.mark.parametrize(
    ("records", "parts", "expected"),
    [
        (0, 2, []),
        (150, 4, [(0, 150)]),
        (300, 2, [(0, 200), (200, 300)]),
        (1800, 2, [(0, 1000), (1000, 1800)]),
        (2000, 3, [(0, 800), (800, 1400), (1400, 2000)]),
        (2199, 4, [(0, 600), (600, 1200), (1200, 1800), (1800, 2199)]),
        (600, 8, [(0, 200), (200, 400), (400, 600)]),
    ],
)
def test_a_unit_is_cut_into_parts_of_whole_calls(records, parts, expected):
    assert writes.call_parts(records, parts) == expected


class PartsOrg:
    """Answers each upsert call with one result per record, naming the record; a call whose
    first record is `failing` fails as a whole."""

    def __init__(self, failing=None):
        self.calls, self.failing, self.lock = [], failing, threading.Lock()

    def upsert(self, obj, key, rows):
        with self.lock:
            self.calls.append([r[key] for r in rows])
        if rows[0][key] == self.failing:
            raise SalesforceError("Salesforce upsert: 503 Service Unavailable")
        return [r[key] for r in rows]


def test_activity_upserts_go_in_parts_and_answer_in_the_records_order(settings):
    settings.SALESFORCE_WRITE_CONCURRENCY = 4
    rows = [{"K": f"a{i}"} for i in range(1000)]
    org = PartsOrg()

    results = activities.upsert_in_parts(org, "SW_Activity__c", "K", rows)

    assert results == [r["K"] for r in rows]
    assert sorted(len(c) for c in org.calls) == [200, 200, 200, 400]  # whole calls, 4 parts
    settings.SALESFORCE_WRITE_CONCURRENCY = 1
    org = PartsOrg()
    assert activities.upsert_in_parts(org, "SW_Activity__c", "K", rows) == results
    assert len(org.calls) == 1


def test_a_part_that_fails_fails_the_upsert_after_every_part_ended(settings):
    settings.SALESFORCE_WRITE_CONCURRENCY = 3
    rows = [{"K": f"a{i}"} for i in range(600)]
    org = PartsOrg(failing="a200")  # the second part

    with pytest.raises(SalesforceError, match="503"):
        activities.upsert_in_parts(org, "SW_Activity__c", "K", rows)
    assert len(org.calls) == 3  # the others were sent, and waited for


@pytest.mark.parametrize("first", ["lead", "contact"])
def test_the_side_that_settles_last_marks_the_prospects_processed(
    world, monkeypatch, settings, first
):
    """Scan mode settles a side's prospects in one statement, which also marks Processed
    those the other side is done with: a side settled alone leaves them Not Processed, with
    their last error; the other side's settlement, whichever comes second, finishes them."""
    busier(world)
    force(monkeypatch, True)
    steps = "syncapp.engine.steps"
    settings.SWSTUDIO_WORKFLOW = [
        f"{steps}.definitions.GetTags",
        f"{steps}.definitions.GetScores",
        f"{steps}.prospects.GetProspects",
    ]
    assert world.cycle().status == CycleStatus.COMPLETED
    matchable = Prospect.objects.filter(lifecycle="Active").exclude(email_key="")
    assert matchable.count() > 10
    matchable.filter(backend_id="p_x1").update(last_error="noted before the match")
    second = {"lead": "contact", "contact": "lead"}[first]
    for side in (first, second):
        step = {"lead": "MatchProspectsToLeads", "contact": "MatchProspectsToContacts"}[side]
        settings.SWSTUDIO_WORKFLOW = [f"{steps}.matching.{step}"]
        cycle = world.cycle()
        assert cycle.status == CycleStatus.COMPLETED, cycle.steps
        if side == first:
            assert not matchable.filter(**{f"{first}_pending": True}).exists()
            assert set(matchable.values_list("sync_status", flat=True)) == {
                SyncStatus.NOT_PROCESSED
            }
            assert matchable.get(backend_id="p_x1").last_error == "noted before the match"
    assert set(matchable.values_list("sync_status", "last_error")) == {(SyncStatus.PROCESSED, "")}


@pytest.mark.parametrize("scan", [False, True], ids=["in", "scan"])
def test_an_older_prospect_read_at_last_does_not_take_a_newer_ones_records(
    world, monkeypatch, scan
):
    # p_old's item arrives malformed; p_new, a newer prospect with the same e-mail, owns the
    # Lead. Once p_old reads (asked for again), it is pending with its older seq: the Lead
    # keeps p_new's values, and p_old's activities link to the Lead p_new matched.
    force(monkeypatch, scan)
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    sf, sw = world.sf, world.sw
    lead = sf.add("Lead", Email="dup@example.com", LastName="D", Company="X")
    old = sw.put_prospect(id="p_old", email="dup@example.com", temperature="Cold")
    old["lastVisit"] = "not a date"
    sw.put_prospect(id="p_new", email="Dup@example.com", temperature="Hot", tags=["tag_blog"])
    world.cycle()
    assert sf.get(lead)["SW_Prospect_Id__c"] == "p_new"
    assert MalformedItem.objects.filter(backend_id="p_old").exists()

    old["lastVisit"] = None
    sw.put_activity(
        id="act_old", prospectId="p_old", type="page_visit", occurredAt="2026-11-26T09:00:00Z"
    )
    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    assert not MalformedItem.objects.exists()
    assert Prospect.objects.get(backend_id="p_old").sync_status == SyncStatus.PROCESSED
    assert held(sf.get(lead)) == expected_people(sf, sw)[lead]
    assert sf.get(lead)["SW_Prospect_Id__c"] == "p_new"
    (activity,) = sf.db["SW_Activity__c"].values()
    assert (activity["SW_Prospect_Id__c"], activity["Lead__c"]) == ("p_old", lead)
