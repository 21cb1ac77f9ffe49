"""Every endpoint of the contract, paging, and the batching of posts."""

from syncapp.saleswings import Page


def test_account_tags_and_scores(sw, backend):
    assert sw.account() == {"id": "acc_1", "name": "Acme Corp"}
    assert sw.tags() == [{"id": "tag_pricing", "name": "Pricing Page"}]
    assert sw.scores() == [{"id": "engagement", "name": "Engagement"}]
    assert all(r[4]["Authorization"] == f"Bearer {backend.token}" for r in backend.requests)


def test_prospects_page_by_cursor(sw, backend):
    first = sw.prospects(since=0, limit=3)
    assert isinstance(first, Page)
    assert [p["seq"] for p in first.items] == [1, 2, 3]
    assert (first.next_since, first.has_more) == (3, True)
    cursor, seen = first.next_since, [p["id"] for p in first.items]
    while True:
        page = sw.prospects(since=cursor, limit=3)
        seen += [p["id"] for p in page.items]
        cursor = page.next_since
        if not page.has_more:
            break
    assert seen == [f"p_{i}" for i in range(1, 8)]
    assert backend.calls("GET", "/prospects")[0][2] == {"since": "0", "limit": "3"}


def test_an_empty_page_keeps_the_cursor(sw):
    page = sw.prospects(since=99, limit=10)
    assert page == Page(items=[], next_since=99, has_more=False)


def test_limit_is_kept_within_the_contract(sw, backend):
    sw.activities(since=0, limit=5000)
    assert backend.calls("GET", "/activities")[0][2]["limit"] == "1000"


def test_send_metrics(sw, backend):
    assert sw.send_metrics({"cycle": 12, "status": "Completed"}) is None
    assert backend.calls("POST", "/metrics")[0][3] == {"cycle": 12, "status": "Completed"}


def test_logs_and_changes_go_500_a_call(sw, backend):
    entries = [
        {"level": "WARNING", "logger": "x", "message": str(i), "time": "t"} for i in range(1200)
    ]
    assert sw.send_logs(entries) == 1200
    assert [len(c[3]["entries"]) for c in backend.calls("POST", "/logs")] == [500, 500, 200]
    changes = [{"salesforceId": f"00Q{i}", "object": "Lead"} for i in range(3)]
    assert sw.send_changes(changes) == 3
    assert backend.calls("POST", "/salesforce-changes")[0][3] == {"records": changes}


def test_sending_nothing_makes_no_call(sw, backend):
    assert sw.send_logs([]) == 0
    assert backend.requests == []


def test_calls_are_counted(sw):
    sw.tags()
    sw.scores()
    assert sw.calls == 2


def test_an_empty_answer_to_a_post_is_fine(sw, backend):
    backend.script("POST", "/metrics", 204, b"")
    assert sw.send_metrics({"cycle": 1}) is None


def test_a_malformed_item_does_not_block_its_page(sw, backend):
    """Only the envelope is checked: the items go through as sent, for the step to judge."""
    items = ["not an object", {"seq": 5}, {"id": "p_ok", "seq": 6}, 7, None]
    backend.script("GET", "/prospects", 200, {"prospects": items, "nextSince": 9, "hasMore": True})
    page = sw.prospects(since=4, limit=10)
    assert page == Page(items=items, next_since=9, has_more=True)
    backend.script(
        "GET", "/activities", 200, {"activities": [[1]], "nextSince": 3, "hasMore": False}
    )
    assert sw.activities(since=0, limit=10).items == [[1]]
