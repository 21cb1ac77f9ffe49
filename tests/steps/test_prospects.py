"""GetProspects and GetProspectPages: cursors, full reads, bad input."""

import datetime as dt
from datetime import timedelta

import pytest
from django.utils import timezone

from syncapp.models import (
    Activity,
    MalformedItem,
    Prospect,
    StudioOptions,
    SyncCursor,
    SyncStatus,
    WaitingActivity,
    WorkflowOption,
)
from syncapp.models.statuses import CycleStatus, StepStatus

pytestmark = pytest.mark.django_db


def test_the_cursor_moves_page_by_page_and_only_changes_are_read_next_time(world):
    WorkflowOption.objects.create(step="GetProspects", batch_size=2)
    cycle = world.cycle()
    step = cycle.step("GetProspects")
    assert step["examined"] == 6 and step["batches_total"] == 3
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == 6

    world.sw.put_prospect(**(world.sw.prospect("p_cy") | {"temperature": "Warm"}))
    cycle = world.cycle()
    assert cycle.step("GetProspects")["examined"] == 1


def fail_second_store(monkeypatch, prospects, message):
    """The second page GetProspects stores fails with `message`; returns the real store."""
    real = prospects.store_prospects
    calls = []

    def failing_second_page(parsed, now):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError(message)
        return real(parsed, now)

    monkeypatch.setattr(prospects, "store_prospects", failing_second_page)
    return real


def test_a_page_that_fails_to_store_does_not_move_the_cursor(world, monkeypatch):
    from syncapp.engine.steps import prospects

    WorkflowOption.objects.create(step="GetProspects", batch_size=2)
    real = fail_second_store(monkeypatch, prospects, "database is locked")
    cycle = world.cycle()

    assert cycle.step("GetProspects")["status"] == StepStatus.PARTIALLY_COMPLETED
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == 2
    monkeypatch.setattr(prospects, "store_prospects", real)
    world.cycle()
    assert Prospect.objects.filter(backend_id="p_nomatch").exists()


def small_pages(monkeypatch, batch_size):
    """Pages of 2 prospects, batches of `batch_size` (the default batch is 5 pages)."""
    from syncapp.engine.steps import prospects

    monkeypatch.setattr(prospects, "PAGE_LIMIT_MAX", 2)
    WorkflowOption.objects.create(step="GetProspects", batch_size=batch_size)
    return prospects


def test_several_pages_are_stored_with_their_cursor_in_one_batch(world, monkeypatch):
    small_pages(monkeypatch, 4)
    step = world.cycle().step("GetProspects")
    # 6 prospects in pages of 2: a batch of two pages, then one of one.
    assert (step["examined"], step["modified"], step["batches_total"]) == (6, 6, 2)
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == 6


def test_a_later_page_that_fails_to_store_undoes_its_whole_batch(world, monkeypatch):
    prospects = small_pages(monkeypatch, 4)
    real = fail_second_store(monkeypatch, prospects, "disk I/O error")
    step = world.cycle().step("GetProspects")

    # The first page was stored in the failed batch's transaction: undone with it, and the
    # cursor did not move. The step stopped there: its only batch failed.
    assert step["status"] == StepStatus.FAILED
    assert step["batches_failed"] == 1 and "disk I/O error" in " ".join(step["errors"])
    assert SyncCursor.get(SyncCursor.PROSPECTS, None) in (None, "0", 0)
    assert not Prospect.objects.exists()
    monkeypatch.setattr(prospects, "store_prospects", real)
    assert world.cycle().step("GetProspects")["modified"] == 6
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == 6


def test_a_page_that_fails_to_arrive_keeps_the_pages_before_it(world, monkeypatch):
    small_pages(monkeypatch, 6)
    real = world.sw.prospects

    def second_page_fails(since, limit):
        if since == 2:
            raise ConnectionError("backend unavailable (503)")
        return real(since, limit)

    monkeypatch.setattr(world.sw, "prospects", second_page_fails)
    step = world.cycle().step("GetProspects")

    # The first page was committed with its cursor; the failed fetch failed the next batch.
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED
    assert (step["modified"], step["batches_total"], step["batches_failed"]) == (2, 2, 1)
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == 2
    monkeypatch.setattr(world.sw, "prospects", real)
    # The next cycle reads on from there.
    assert world.cycle().step("GetProspects")["examined"] == 4
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == 6


def test_a_slow_page_is_waited_for_outside_the_batch(world, monkeypatch):
    import time

    prospects = small_pages(monkeypatch, 6)
    monkeypatch.setattr(prospects, "HOLD_S", 0.01)
    real = world.sw.prospects

    def slow_second_page(since, limit):
        if since == 2:
            time.sleep(0.3)
        return real(since, limit)

    monkeypatch.setattr(world.sw, "prospects", slow_second_page)
    step = world.cycle().step("GetProspects")

    # The first batch committed its one page rather than hold the write lock waiting.
    assert (step["status"], step["examined"], step["batches_total"]) == (
        StepStatus.COMPLETED,
        6,
        2,
    )
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == 6


def test_an_active_prospect_fetched_again_is_reset_to_not_processed(world):
    world.cycle()
    Prospect.objects.filter(backend_id="p_cy").update(lead_sync_attempts=3)
    world.sw.put_prospect(**world.sw.prospect("p_cy"))

    from syncapp.engine.steps.context import StepContext
    from syncapp.engine.steps.prospects import GetProspects
    from syncapp.models import AsyncJob, SyncState

    job = AsyncJob.objects.create(
        class_name="SWJobGetProspects",
        job_type="Queueable",
        status="Processing",
        step="GetProspects",
        generation=SyncState.load().generation,
    )
    ctx = StepContext(
        job=job,
        cycle=type("C", (), {"full_sync": False})(),
        options=StudioOptions.load(),
        batch_size=100,
    )
    GetProspects().run(ctx)
    cy = Prospect.objects.get(backend_id="p_cy")
    assert (cy.sync_status, cy.lead_sync_attempts, cy.lead_pending) == (
        SyncStatus.NOT_PROCESSED,
        0,
        True,
    )


def test_bad_backend_records_are_counted_failed_and_the_rest_goes_on(world):
    sw = world.sw
    sw.put_raw("not an object")
    sw.put_raw({"email": "no-id@example.com"})
    sw.put_prospect(id="p_noemail", email=None)
    sw.put_prospect(id="p_bademail", email="not-an-email")
    sw.put_prospect(id="p_unknowntag", email="tagged@example.com", tags=["tag_nope", "tag_demo"])
    sw.put_prospect(
        id="p_badscore", email="scored@example.com", scores={"engagement": "high", "zzz": 1}
    )
    sw.put_raw({"id": "p_badseq", "seq": "x"})
    tagged = world.sf.add("Lead", Email="tagged@example.com", LastName="T", Company="X")

    cycle = world.cycle()

    step = cycle.step("GetProspects")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED
    assert step["failed"] == 8
    errors = " | ".join(step["errors"])
    for fragment in (
        "not a JSON object",
        "id is missing",
        "malformed e-mail",
        "unknown tag 'tag_nope'",
        "score engagement is not a number",
        "unknown score 'zzz'",
    ):
        assert fragment in errors
    # The rest of the batch went on: good prospects and the good parts of bad ones synced.
    assert world.sf.get(world.ids["ada_lead"])["SW_Prospect_Id__c"] == "p_ada"
    assert world.sf.get(tagged)["SW_Tags__c"] == "Demo Request"
    assert Prospect.objects.get(backend_id="p_noemail").sync_status == SyncStatus.PROCESSED


def test_activities_are_fetched_only_with_activity_sync_on(world):
    world.sw.put_activity(
        id="act_1",
        prospectId="p_ada",
        type="form_submit",
        occurredAt="2026-11-26T09:00:00+00:00",
        details={"plan": "pro"},
    )
    world.sw.put_activity(
        id="act_2",
        prospectId="p_missing",
        type="page_visit",
        occurredAt="2026-11-26T09:00:00+00:00",
    )
    world.sw.put_activity(
        id="act_3", prospectId="p_ada", type="nonsense", occurredAt="2026-11-26T09:00:00+00:00"
    )
    cycle = world.cycle()
    assert "GetProspectPages" not in [s["name"] for s in cycle.steps]

    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    cycle = world.cycle()

    step = cycle.step("GetProspectPages")
    # act_2's prospect is not stored (it waits for it, no failure); act_3's type is unknown
    # (failed).
    assert (step["examined"], step["modified"], step["failed"], step["skipped"]) == (3, 1, 1, 0)
    assert Activity.objects.get().details == {"plan": "pro"}
    assert WaitingActivity.objects.get().backend_id == "act_2"


def test_activities_come_in_pages_and_an_activity_twice_on_a_page_keeps_its_last(world):
    WorkflowOption.objects.create(step="GetProspectPages", batch_size=2)
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    for aid, title in (("a1", "first"), ("a1", "again"), ("a2", "x"), ("a3", "y"), ("a4", "z")):
        world.sw.put_activity(
            id=aid, prospectId="p_ada", type="page_visit", occurredAt="2026-11-26T09:00:00Z",
            title=title,
        )  # fmt: skip

    cycle = world.cycle()

    step = cycle.step("GetProspectPages")
    assert (step["status"], step["examined"], step["failed"]) == (StepStatus.COMPLETED, 5, 0)
    assert step["batches_total"] == 3
    titles = dict(Activity.objects.values_list("backend_id", "title"))
    assert titles == {"a1": "again", "a2": "x", "a3": "y", "a4": "z"}
    assert int(SyncCursor.get(SyncCursor.ACTIVITIES)) == world.sw.activity_rows[-1][0]
    assert world.cycle().step("GetProspectPages")["examined"] == 0


def test_postgresql_statistics_are_refreshed_after_many_rows_with_activity_sync(world, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from syncapp import bulk

    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    world.sw.put_activity(
        id="a1", prospectId="p_ada", type="page_visit", occurredAt="2026-11-26T09:00:00Z"
    )
    with CaptureQueriesContext(connection) as few:
        world.cycle()
    monkeypatch.setattr(bulk, "ANALYZE_AFTER_ROWS", 1)
    world.sw.put_prospect(**world.sw.prospect("p_cy"))
    world.sw.put_activity(
        id="a2", prospectId="p_cy", type="page_visit", occurredAt="2026-11-26T09:00:00Z"
    )
    with CaptureQueriesContext(connection) as many:
        world.cycle()

    def analyzed(queries):
        return sorted(q["sql"] for q in queries if q["sql"].startswith("ANALYZE"))

    assert analyzed(few) == []
    if connection.vendor == "postgresql":
        assert analyzed(many) == [
            'ANALYZE "syncapp_activity"',
            'ANALYZE "syncapp_prospect"',
            'ANALYZE "syncapp_prospect"',
        ]
    else:
        assert analyzed(many) == []
    options.activity_sync = False  # the Match steps settle each side in one statement then
    options.save()
    world.sw.put_prospect(**world.sw.prospect("p_cy"))
    with CaptureQueriesContext(connection) as without:
        world.cycle()
    assert analyzed(without) == []


def test_a_page_with_malformed_items_moves_the_cursor_past_them(world):
    WorkflowOption.objects.create(step="GetProspects", batch_size=3)
    world.sw.put_raw(["not", "an", "object"])
    world.sw.put_raw({"firstName": "no id"})
    world.sw.put_prospect(id="p_late", email="late@example.com")
    end = world.sw.prospect_rows[-1][0]

    cycle = world.cycle()

    step = cycle.step("GetProspects")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED
    assert step["failed"] == 2
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == end
    assert Prospect.objects.filter(backend_id="p_late").exists()
    # The next cycle asks for those two again (one note: they came in a row), and only them:
    # nothing is blocked on that page, the cursor stays past it.
    (noted,) = MalformedItem.objects.all()
    assert (noted.span, noted.attempts) == (2, 1)
    assert world.cycle().step("GetProspects")["examined"] == 2
    assert int(SyncCursor.get(SyncCursor.PROSPECTS)) == end
    assert MalformedItem.objects.get().attempts == 2


def test_malformed_activities_are_counted_and_the_rest_goes_on(world):
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    world.cycle()
    world.sw.activity_rows.append((next(world.sw.seq), "garbage"))
    world.sw.put_activity(
        id="a_ok", prospectId="p_ada", type="page_visit", occurredAt="2026-11-01T10:00:00+00:00"
    )
    cycle = world.cycle()
    step = cycle.step("GetProspectPages")
    assert step["failed"] == 1 and "not a JSON object" in " ".join(step["errors"])
    assert Activity.objects.filter(backend_id="a_ok").exists()
    assert int(SyncCursor.get(SyncCursor.ACTIVITIES)) == world.sw.activity_rows[-1][0]


def test_activities_of_a_prospect_the_backend_deleted_wait_then_are_skipped_not_failed(
    world, settings
):
    # The backend deleted p_gone; the first cycle stored it, cleaned its records and dropped it
    # (CleanProspects). SW Activity Data turned on later reads its activities from the start.
    world.sw.put_prospect(id="p_gone", email="gone@example.com", lifecycle="Deleted")
    world.cycle()
    assert not Prospect.objects.filter(backend_id="p_gone").exists()
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    for n in (1, 2):
        world.sw.put_activity(
            id=f"a_lost{n}", prospectId="p_gone", type="page_visit",
            occurredAt="2026-11-01T10:00:00+00:00",
        )  # fmt: skip

    cycle = world.cycle()
    step = cycle.step("GetProspectPages")
    assert (step["failed"], step["skipped"], step["errors"]) == (0, 0, [])
    assert step["status"] == StepStatus.COMPLETED
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    assert not Activity.objects.filter(backend_id__startswith="a_lost").exists()
    # Kept for the prospect, which may yet come (nothing tells a deleted one from a late one).
    assert set(WaitingActivity.objects.values_list("backend_id", flat=True)) == {
        "a_lost1", "a_lost2"
    }  # fmt: skip
    assert int(SyncCursor.get(SyncCursor.ACTIVITIES)) == world.sw.activity_rows[-1][0]

    # Past the retention, dropped and counted skipped: no failure.
    WaitingActivity.objects.update(
        noted_at=timezone.now() - timedelta(days=settings.SWSTUDIO_WAITING_ACTIVITY_DAYS, hours=1)
    )
    cycle = world.cycle()
    step = cycle.step("GetProspectPages")
    assert (step["failed"], step["skipped"], step["errors"]) == (0, 2, [])
    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    assert not WaitingActivity.objects.exists()


def test_an_activity_read_before_its_prospect_waits_and_reaches_the_org_with_it(world):
    # Activities of a prospect the backend serves after GetProspects read (it appeared in
    # between), or whose item was malformed and is asked for again: none is lost.
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    sf, sw = world.sf, world.sw
    lead = sf.add("Lead", Email="late@example.com", LastName="L", Company="X")
    late = sw.put_prospect(id="p_late", email="late@example.com", temperature="Warm")
    late["lastVisit"] = "not a date"  # unreadable: asked for again next cycle
    sw.put_activity(
        id="a_early", prospectId="p_late", type="page_visit", occurredAt="2026-11-01T10:00:00Z",
        url="https://example.com/pricing", details={"k": 1},
    )  # fmt: skip
    cycle = world.cycle()
    assert cycle.step("GetProspectPages")["failed"] == 0
    assert WaitingActivity.objects.get().prospect_backend_id == "p_late"
    assert not sf.db["SW_Activity__c"]

    late["lastVisit"] = None  # the backend serves it well now
    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    assert cycle.step("GetProspectPages")["modified"] == 1
    assert not WaitingActivity.objects.exists()
    activity = Activity.objects.get(backend_id="a_early")
    assert (activity.prospect.backend_id, activity.url, activity.details) == (
        "p_late", "https://example.com/pricing", {"k": 1}
    )  # fmt: skip
    (record,) = sf.db["SW_Activity__c"].values()
    assert (record["SW_Prospect_Id__c"], record["Lead__c"]) == ("p_late", lead)
    assert record["Occurred_At__c"].startswith("2026-11-01T10:00:00")


def test_a_waiting_activity_read_again_with_its_prospect_stored_keeps_the_newer(world):
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    sw = world.sw
    sw.put_activity(
        id="a_x", prospectId="p_ada", type="page_visit", occurredAt="2026-11-01T10:00:00Z",
        title="new",
    )  # fmt: skip
    WaitingActivity.objects.create(
        backend_id="a_x", prospect_backend_id="p_ada", seq=1,
        data={"backend_id": "a_x", "seq": 1, "type": "page_visit",
              "occurred_at": "2026-10-01T10:00:00+00:00", "url": "", "title": "old",
              "details": {}},
    )  # fmt: skip
    world.cycle()
    assert Activity.objects.get(backend_id="a_x").title == "new"
    assert not WaitingActivity.objects.exists()


def test_scores_that_are_not_finite_numbers_are_refused_and_the_page_is_stored(world):
    # Python's JSON parser reads NaN, Infinity and 1e999 (infinite): none is a score, and none
    # can be stored as JSON (SQLite's JSON_VALID and PostgreSQL's jsonb refuse them).
    world.sw.put_prospect(
        id="p_nan", email="nan@example.com", scores={"engagement": float("nan"), "fit": 3}
    )
    world.sw.put_prospect(id="p_inf", email="inf@example.com", scores={"fit": float("inf")})

    cycle = world.cycle()

    step = cycle.step("GetProspects")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED, step
    assert step["failed"] == 2
    errors = " | ".join(step["errors"])
    assert "score engagement is not a finite number" in errors
    assert "score fit is not a finite number" in errors
    assert Prospect.objects.get(backend_id="p_nan").scores == {"fit": 3}
    assert Prospect.objects.get(backend_id="p_inf").scores == {}
    assert Prospect.objects.filter(backend_id="p_ada").exists()  # the rest of the page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9999-12-31T23:59:59-05:00", "lastVisit is out of range"),  # past UTC's year 9999
        ("0001-01-01T00:00:00+05:00", "lastVisit is out of range"),  # before UTC's year 1
        ("2026-13-01T00:00:00Z", "lastVisit is not an ISO 8601 date-time"),
    ],
)
def test_a_date_time_out_of_range_skips_its_prospect_and_the_page_is_stored(world, value, message):
    world.sw.put_prospect(id="p_dt", email="dt@example.com", lastVisit=value)

    cycle = world.cycle()

    step = cycle.step("GetProspects")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED, step
    assert step["failed"] == 1
    assert f"Prospect skipped: {message}" in " ".join(step["errors"])
    assert not Prospect.objects.filter(backend_id="p_dt").exists()
    assert Prospect.objects.filter(backend_id="p_ada").exists()  # the rest of the page


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"seq": 2**64}, "seq is out of range"),
        ({"firstName": "Ann\x00"}, "firstName holds a NUL character"),
        ({"assignee": "a\x00b"}, "assignee holds a NUL character"),
        ({"id": "p_\x00"}, "holds a NUL character"),
    ],
)
def test_items_the_database_would_refuse_skip_their_prospect_not_the_page(world, item, message):
    # Each used to fail its whole page in the database (an integer past 64 bits; a NUL
    # character, which PostgreSQL refuses in text), and the page failed again every cycle.
    world.sw.put_raw({"id": "p_bad", "seq": next(world.sw.seq), "email": "bad@example.com", **item})

    cycle = world.cycle()

    step = cycle.step("GetProspects")
    assert step["status"] == StepStatus.PARTIALLY_COMPLETED, step
    assert step["failed"] == 1
    assert message in " ".join(step["errors"])
    assert not Prospect.objects.filter(email="bad@example.com").exists()
    assert Prospect.objects.filter(backend_id="p_ada").exists()  # the rest of the page


def test_an_e_mail_holding_nul_is_malformed_and_matches_nobody(world):
    world.sw.put_prospect(id="p_nul", email="ada\x00@example.com")

    cycle = world.cycle()

    assert "malformed e-mail" in " ".join(cycle.step("GetProspects")["errors"])
    prospect = Prospect.objects.get(backend_id="p_nul")
    assert (prospect.email, prospect.email_key) == ("ada\ufffd@example.com", "")


def test_date_times_with_an_offset_are_stored_in_utc(world):
    world.sw.put_prospect(id="p_tz", email="tz@example.com", lastVisit="2026-11-27T10:00:00+02:00")

    world.cycle()

    visit = Prospect.objects.get(backend_id="p_tz").last_visit
    assert visit == dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def test_a_favourite_that_is_not_a_boolean_is_refused_not_read_as_true(world):
    # bool("false") is True: the text would have made the prospect a favourite.
    world.sw.put_prospect(id="p_fav", email="fav@example.com", favorite="false")

    cycle = world.cycle()

    step = cycle.step("GetProspects")
    assert step["failed"] == 1, step
    assert "p_fav: favorite is not true or false: 'false'" in " ".join(step["errors"])
    assert Prospect.objects.get(backend_id="p_fav").favorite is False


def test_activity_details_json_cannot_store_are_a_failed_record(world):
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    for aid, details in (
        ("a_nan", {"depth": float("nan")}),
        ("a_nul", {"path": ["/a", "/b\x00"]}),
        ("a_ok", {"depth": 3, "note": "C:\\u0000 is only text"}),
    ):
        world.sw.put_activity(
            id=aid,
            prospectId="p_ada",
            type="page_visit",
            occurredAt="2026-11-01T10:00:00+00:00",
            details=details,
        )

    cycle = world.cycle()

    step = cycle.step("GetProspectPages")
    assert step["failed"] == 2, step
    assert "a_nan: details hold a value JSON cannot store" in " ".join(step["errors"])
    assert "a_nul: details hold a NUL character" in " ".join(step["errors"])
    assert list(Activity.objects.values_list("backend_id", flat=True)) == ["a_ok"]


def test_malformed_items_are_asked_for_again_until_they_read_and_the_org_converges(
    world, admin_client
):
    """Issue 26, point 4, record by record: after cycles with malformed items, then clean
    cycles, the org equals the backend without a Full Synchronization, except the item given
    up after the maximum attempts, which the Prospects admin lists."""
    from django.urls import reverse

    from tests.steps.expect import expected_people, held

    sf, sw, ids = world.sf, world.sw, world.ids
    options = StudioOptions.load()
    options.max_sync_attempts = 3
    options.save()
    world.cycle()

    # Three changes arrive malformed: one wholly (p_cy), one partly (p_ada: a NaN score next
    # to a good one) and one for good (p_bob).
    cy = sw.put_prospect(**{**sw.prospect("p_cy"), "temperature": "Hot", "scores": {"fit": 4}})
    cy["lastVisit"] = "not a date"
    ada = sw.put_prospect(**{**sw.prospect("p_ada"), "scores": {"engagement": 50, "fit": 9}})
    ada["scores"] = {"engagement": float("nan"), "fit": 9}
    bob = sw.put_prospect(**{**sw.prospect("p_bob"), "temperature": "Hot"})
    bob["updatedAt"] = "never"

    cycle = world.cycle()
    errors = " | ".join(cycle.step("GetProspects")["errors"])
    assert "score engagement is not a finite number (its stored value stands)" in errors
    assert "updatedAt is not an ISO 8601 date-time" in errors
    # The partly bad item: the good score is written, the NaN one clears nothing.
    assert Prospect.objects.get(backend_id="p_ada").scores == {"engagement": 42, "fit": 9}
    ada_lead = sf.get(ids["ada_lead"])
    assert (ada_lead["SW_Engagement_Score__c"], ada_lead["SW_Fit_Score__c"]) == (42, 9)
    noted = {n.backend_id: n for n in MalformedItem.objects.all()}
    assert set(noted) == {"p_cy", "p_ada", "p_bob"}
    assert noted["p_cy"].seq == cy["seq"] and noted["p_cy"].since == cy["seq"] - 1

    # The backend serves p_cy and p_ada well again (what the sandbox's malformed rate does):
    # the next cycle asks for them again, with no Full Synchronization.
    cy["lastVisit"] = None
    ada["scores"] = {"engagement": 50, "fit": 9}
    world.cycle()
    world.cycle()  # p_bob's third and last attempt
    assert set(MalformedItem.objects.values_list("backend_id", flat=True)) == {"p_bob"}
    given_up = MalformedItem.objects.given_up().get()
    assert given_up.attempts == 3

    expected = expected_people(sf, sw)
    bob_records = {ids["bob_contact"]}
    for rid, values in expected.items():
        if rid not in bob_records:
            assert held(sf.get(rid)) == values, rid
    assert held(sf.get(ids["cy_lead"]))["SW_Temperature__c"] == "Hot"
    assert sf.get(ids["ada_lead"])["SW_Engagement_Score__c"] == 50
    # The given-up item is shown as failed, with its message, on the Prospects admin.
    bob_row = Prospect.objects.get(backend_id="p_bob")
    assert "could not be read after 3 attempts" in bob_row.last_error
    page = admin_client.get(reverse("admin:syncapp_prospect_changelist")).content.decode()
    assert "Failed: the backend&#x27;s item of prospect p_bob" in page
    assert "updatedAt is not an ISO 8601 date-time" in page

    # Its next change reads well: synced, and no longer listed.
    bob["updatedAt"] = None
    sw.put_prospect(**{**bob, "temperature": "Warm"})
    world.cycle()
    assert not MalformedItem.objects.exists()
    assert held(sf.get(ids["bob_contact"])) == expected_people(sf, sw)[ids["bob_contact"]]
