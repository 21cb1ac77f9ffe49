"""A cycle's step entries: the JSON record of each planned step in `SWApexJob.steps`."""

MAX_ERRORS_KEPT = 20
MAX_ERROR_LENGTH = 500


def new_counters():
    """A step's counters before its first batch (what a running step adds up)."""
    return {
        "batches_total": 0,
        "batches_failed": 0,
        "examined": 0,
        "modified": 0,
        "failed": 0,
        # Records passed over for a reason that is no failure (an activity whose prospect never
        # came: the backend deleted or merged it): they do not make the step
        # Partially_Completed.
        "skipped": 0,
        "errors": [],
        "errors_dropped": 0,
    }


def new_step_entry(name, class_name, batch_size, *, counts_toward_status=True, group="", lane=""):
    """A step's entry in its cycle, as planned. `group` and `lane` (see `Step.parallel_group`
    and `Step.lane`) are kept only for a step that runs side by side with others."""
    entry = {
        "name": name,
        "class": class_name,
        "status": "Queued",
        "batch_size": batch_size,
        "counts_toward_status": counts_toward_status,
        "start": None,
        "end": None,
        **new_counters(),
        # Transient failures the step's clients met and retried, by code (e.g. HTTP_503).
        "transient_errors": {},
        # API calls the step's clients made, by service (each retry counts; logins do not).
        "api_calls": {"salesforce": 0, "saleswings": 0},
        "job_id": None,
    }
    if group:
        entry["group"] = group
        if lane:
            entry["lane"] = lane
    return entry


# The keys of an entry as planned, in order; `group`, `lane` and what a step adds (the
# Finalizer's `metrics`) come after them.
ENTRY_KEYS = tuple(new_step_entry("", "", 0))
_ENTRY_ORDER = {key: i for i, key in enumerate(ENTRY_KEYS)}


def ordered_entry(entry):
    """A step entry with its keys in the planned order (PostgreSQL's jsonb reorders them)."""
    last = len(_ENTRY_ORDER)
    return dict(sorted(entry.items(), key=lambda item: _ENTRY_ORDER.get(item[0], last)))


def add_error(entry, message):
    """Keep an error message in a step entry, within the size cap."""
    message = str(message)
    if len(message) > MAX_ERROR_LENGTH:
        message = message[: MAX_ERROR_LENGTH - 1] + "…"
    if len(entry["errors"]) < MAX_ERRORS_KEPT:
        entry["errors"].append(message)
    else:
        entry["errors_dropped"] += 1


API_SERVICES = ("salesforce", "saleswings")


def api_calls_total(entries):
    """The API calls of a cycle's steps, by service (entries from before the count: 0)."""
    total = dict.fromkeys(API_SERVICES, 0)
    for entry in entries:
        for service, n in (entry.get("api_calls") or {}).items():
            if service in total:
                total[service] += n
    return total
