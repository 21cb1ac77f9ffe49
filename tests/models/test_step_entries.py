"""A cycle's step entries: their planned shape, their key order and the cap on errors."""

from syncapp.models.step_entries import (
    ENTRY_KEYS,
    MAX_ERROR_LENGTH,
    MAX_ERRORS_KEPT,
    add_error,
    new_step_entry,
    ordered_entry,
)


def test_error_messages_are_capped():
    entry = new_step_entry("Counting", "SWJobCounting", 10)
    for i in range(MAX_ERRORS_KEPT + 5):
        add_error(entry, f"error {i} " + "x" * 1000)
    assert len(entry["errors"]) == MAX_ERRORS_KEPT
    assert entry["errors_dropped"] == 5
    assert all(len(e) <= MAX_ERROR_LENGTH for e in entry["errors"])


def test_a_planned_entry_has_the_planned_keys_in_order():
    assert tuple(new_step_entry("Counting", "SWJobCounting", 10)) == ENTRY_KEYS


def test_group_and_lane_are_kept_only_for_a_step_of_a_group():
    alone = new_step_entry("A", "SWJobA", 10, lane="leads")
    assert "group" not in alone and "lane" not in alone
    grouped = new_step_entry("A", "SWJobA", 10, group="match", lane="leads")
    assert (grouped["group"], grouped["lane"]) == ("match", "leads")
    assert "lane" not in new_step_entry("A", "SWJobA", 10, group="match")


def test_an_entry_reordered_by_the_database_gets_its_planned_order_back():
    entry = new_step_entry("A", "SWJobA", 10, group="match", lane="leads")
    entry["metrics"] = {}
    shuffled = dict(sorted(entry.items()))
    assert list(ordered_entry(shuffled)) == [*ENTRY_KEYS, "group", "lane", "metrics"]
