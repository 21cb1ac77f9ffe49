"""The world generator: a SalesWings backend and a Salesforce org that fit each other.

Reproducible: the same sizes, `seed` and `base_time` give the same world, row for row.
Rows are written with `executemany` in large batches (no model instances), which is what
makes 100,000 prospects and their org take seconds.
"""

import contextlib
import datetime as dt
import json
import random
import time
from dataclasses import dataclass

from django.db import connection, transaction

from . import models, runtime
from .ids import make_id
from .schema import saleswings_metadata

TAGS = [
    ("tag_pricing", "Pricing Page", "Visited the pricing page"),
    ("tag_demo", "Demo Request", "Asked for a demo"),
    ("tag_webinar", "Webinar", "Registered for a webinar"),
    ("tag_docs", "Documentation", "Read the documentation"),
    ("tag_trial", "Free Trial", "Started a free trial"),
    ("tag_integration", "Integrations", "Looked at integrations"),
    ("tag_security", "Security", "Read the security page"),
    ("tag_blog", "Blog Reader", "Reads the blog"),
    ("tag_careers", "Careers", "Looked at job offers"),
    ("tag_partner", "Partner Program", "Interested in partnering"),
]
SCORES = [
    ("engagement", "Engagement", "How engaged the prospect is (0-100)"),
    ("fit", "Fit", "How well the prospect fits the ideal customer profile (0-10)"),
]
FIRST = (  # noqa: SIM905
    "Ada Alan Grace Linus Margaret Ken Barbara Dennis Frances Edsger Radia John Hedy Tim "
    "Katherine Guido Anita Donald Sophie Niklaus Joan Bjarne Mary Leslie Karen Vint"
).split()
LAST = (  # noqa: SIM905
    "Lovelace Turing Hopper Torvalds Hamilton Thompson Liskov Ritchie Allen Dijkstra Perlman "
    "McCarthy Lamarr Berners-Lee Johnson Rossum Borg Knuth Wilson Wirth Clarke Stroustrup "
    "Keller Lamport Jones Cerf"
).split()
DOMAINS = ["example.com", "example.org", "example.net", "acme.example", "globex.example"]
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation"]
PAGES = [
    ("https://example.com/pricing", "Pricing"),
    ("https://example.com/demo", "Book a demo"),
    ("https://example.com/docs", "Documentation"),
    ("https://example.com/blog/sync", "Syncing at scale"),
    ("https://example.com/security", "Security"),
]
TEMPERATURES = ["Hot", "Warm", "Cold", None]


@dataclass
class Sizes:
    prospects: int = 2000
    leads: int = 1200
    contacts: int = 1200
    accounts: int = 200
    opportunities: int = 300
    match_share: float = 0.5
    activities_per_prospect: int = 2
    users: int = 5


WORLD_MODELS = [
    models.SwTag,
    models.SwScore,
    models.SwProspect,
    models.SwActivity,
    models.SwReceived,
    models.SfUser,
    models.SfGroup,
    models.SfLead,
    models.SfContact,
    models.SfAccount,
    models.SfOpportunity,
    models.SfActivity,
    models.SfQueryCursor,
]


def is_empty():
    return not models.SwProspect.objects.exists() and not models.SfLead.objects.exists()


def wipe():
    with connection.cursor() as cur:
        for model in WORLD_MODELS:
            cur.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def _datetime_adapter():
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value
    tz = connection.timezone

    # What Django's SQLite adapter does (naive in the connection's zone, str()), minus the
    # per-call checks that made it a third of the seeding time.
    def adapt(value):
        return value.astimezone(tz).replace(tzinfo=None).isoformat(" ")

    return adapt


def _insert(model, attrs, rows, batch=5000):
    """Insert tuples of values (in attrs order) with executemany, adapting per field."""
    if not rows:
        return
    # Columns left out get their model default (Django defaults are not database defaults).
    extra = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in attrs and not f.primary_key and f.has_default()
    ]
    if extra:
        attrs = list(attrs) + [f.attname for f in extra]
        tail = tuple(f.get_default() for f in extra)
        rows = [tuple(r) + tail for r in rows]
    fields = [model._meta.get_field(a) for a in attrs]
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
    preps = []
    for f in fields:
        kind = f.get_internal_type()
        if kind == "DateTimeField":
            preps.append(_datetime_adapter())
        elif kind == "DateField":
            preps.append(connection.ops.adapt_datefield_value)
        elif kind == "JSONField":
            preps.append(lambda v: None if v is None else json.dumps(v))
        else:
            preps.append(None)
    needs = [i for i, p in enumerate(preps) if p]
    with connection.cursor() as cur:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            if needs:
                prepped = []
                for row in chunk:
                    row = list(row)
                    for i in needs:
                        if row[i] is not None:
                            row[i] = preps[i](row[i])
                    prepped.append(row)
                chunk = prepped
            cur.executemany(sql, chunk)


@contextlib.contextmanager
def _indexes_dropped(model, rows):
    """SQLite: drop a big table's secondary indexes for the load and build them afterwards
    (one sort per index instead of 100,000 random-order B-tree inserts)."""
    if connection.vendor != "sqlite" or rows < 20000:
        yield
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL",
            [model._meta.db_table],
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        yield
        for _, sql in indexes:
            cur.execute(sql)


def _reset_sequences():
    sql = connection.ops.sequence_reset_sql(
        __import__("django.core.management.color", fromlist=["no_style"]).no_style(),
        [models.SfUser, models.SfGroup, models.SfLead, models.SfContact, models.SfAccount,
         models.SfOpportunity, models.SfActivity],
    )  # fmt: skip
    with connection.cursor() as cur:
        for statement in sql:
            cur.execute(statement)


def generate(sizes, seed, base_time):
    """Build the world table by table: yields (model, (attrs, rows)). A table's rows are
    written before the next table is built, so only one big table is in memory at a time."""
    rng = random.Random(seed)
    rand = rng.random
    day = dt.timedelta(days=1)

    # Cheaper than random.choice/randrange, and as reproducible.
    def pick(seq):
        return seq[int(rand() * len(seq))]

    def below(n):
        return int(rand() * n)

    def ago(max_days):
        return base_time - dt.timedelta(seconds=int(rand() * max_days * 86400))

    yield models.SwTag, (["id", "name", "description"], list(TAGS))
    yield models.SwScore, (["id", "name", "description"], list(SCORES))

    # Salesforce users (owners); assignees are their e-mails.
    users = []
    for i in range(1, sizes.users + 1):
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        email = f"{first}.{last}@acme.example".lower()
        users.append((i, first, last, f"{first} {last}", email, email, True))
    user_ids = [make_id("005", u[0]) for u in users]
    user_emails = [u[4] for u in users]
    stamp = base_time - 400 * day
    yield models.SfUser, (
        ["id", "first_name", "last_name", "name", "email", "username", "is_active",
         "created_date", "last_modified_date", "system_modstamp"],
        [u + (stamp, stamp, stamp) for u in users],
    )  # fmt: skip

    # A queue owning every 20th Lead (Leads may be owned by queues; nothing else is).
    yield models.SfGroup, (
        ["id", "name", "developer_name", "type", "created_date", "last_modified_date",
         "system_modstamp"],
        [(1, "Inbound Leads", "Inbound_Leads", "Queue", stamp, stamp, stamp)],
    )  # fmt: skip
    queue_id = make_id("00G", 1)

    # Prospects.
    tag_ids = [t[0] for t in TAGS]
    prospects = []
    emails = []
    active = []
    for i in range(1, sizes.prospects + 1):
        first, last = pick(FIRST), pick(LAST)
        email = f"{first}.{last}.{i}@{pick(DOMAINS)}".lower()
        emails.append(email)
        r = rand()
        lifecycle, merged_into = "Active", None
        if r < 0.03 and active:
            lifecycle, merged_into = "Merged", pick(active)
        elif r < 0.05:
            lifecycle = "Deleted"
        pid = f"p_{i:06d}"
        if lifecycle == "Active":
            active.append(pid)
        last_visit = ago(60) if rand() < 0.9 else None
        scores = {"engagement": below(101), "fit": below(11)}
        tags = sorted(rng.sample(tag_ids, below(4)))
        prospects.append(
            (
                pid, i, email, first, last, lifecycle, merged_into,
                pick(TEMPERATURES), last_visit, rand() < 0.05,
                pick(user_emails) if rand() < 0.6 else None,
                tags, scores, last_visit or ago(90),
            )
        )  # fmt: skip
    yield models.SwProspect, (
        ["id", "seq", "email", "first_name", "last_name", "lifecycle", "merged_into",
         "temperature", "last_visit", "favorite", "assignee", "tags", "scores", "updated_at"],
        prospects,
    )  # fmt: skip

    # Activities, in seq order.
    acts = []
    seq = 0
    kinds = ["page_visit", "page_visit", "page_visit", "form_submit", "custom_event"]
    for p in prospects:
        for _ in range(sizes.activities_per_prospect):
            seq += 1
            kind = pick(kinds)
            url, title = pick(PAGES)
            details = {}
            if kind == "form_submit":
                details = {"form": "contact-us"}
            elif kind == "custom_event":
                details = {"event": "video_played", "seconds": 5 + below(295)}
            acts.append((f"act_{seq:07d}", seq, p[0], kind, ago(60), url, title, details))
    yield (
        models.SwActivity,
        (
            ["id", "seq", "prospect_id", "type", "occurred_at", "url", "title", "details"],
            acts,
        ),
    )
    del acts, prospects  # written: free them before the next tables

    def person_email(n, kind):
        """A prospect's e-mail for a share of the records (sometimes in other case)."""
        if emails and rand() < sizes.match_share:
            email = pick(emails)
            if rand() < 0.2:
                email = email[0].upper() + email[1:]
            return email
        return f"{kind}{n}@unmatched.example"

    # Accounts.
    accounts = []
    for i in range(1, sizes.accounts + 1):
        t = ago(365)
        accounts.append((i, f"{pick(LAST)} {pick(['Ltd', 'Inc', 'GmbH', 'AG'])} {i}",
                         pick(user_ids), t, t, t))  # fmt: skip
    yield (
        models.SfAccount,
        (
            ["id", "name", "owner_id", "created_date", "last_modified_date", "system_modstamp"],
            accounts,
        ),
    )
    account_ids = [make_id("001", a[0]) for a in accounts]

    # Contacts.
    contacts = []
    for i in range(1, sizes.contacts + 1):
        email = person_email(i, "contact")
        t = ago(365)
        acc = pick(account_ids) if account_ids and rand() < 0.9 else None
        contacts.append((i, pick(FIRST), pick(LAST), email, email.lower(), acc,
                         pick(user_ids), t, t, t))  # fmt: skip
    yield models.SfContact, (
        ["id", "first_name", "last_name", "email", "email_lower", "account_id", "owner_id",
         "created_date", "last_modified_date", "system_modstamp"],
        contacts,
    )  # fmt: skip
    del contacts

    # Leads, some converted.
    leads = []
    for i in range(1, sizes.leads + 1):
        email = person_email(i, "lead")
        t = ago(365)
        converted = rand() < 0.08
        leads.append(
            (
                i, pick(FIRST), pick(LAST), email, email.lower(),
                f"{pick(LAST)} & Co", "Closed - Converted" if converted else "Open",
                converted, t.date() if converted else None,
                make_id("003", 1 + below(sizes.contacts))
                if converted and sizes.contacts else None,
                pick(user_ids) if i % 20 else queue_id, t, t, t,
            )
        )  # fmt: skip
    yield models.SfLead, (
        ["id", "first_name", "last_name", "email", "email_lower", "company", "status",
         "is_converted", "converted_date", "converted_contact_id", "owner_id",
         "created_date", "last_modified_date", "system_modstamp"],
        leads,
    )  # fmt: skip

    # Opportunities.
    opps = []
    for i in range(1, sizes.opportunities + 1):
        t = ago(365)
        opps.append((i, f"Opportunity {i}", pick(account_ids) if account_ids else None,
                     pick(STAGES), (base_time + (1 + below(119)) * day).date(),
                     pick(user_ids), t, t, t))  # fmt: skip
    yield models.SfOpportunity, (
        ["id", "name", "account_id", "stage_name", "close_date", "owner_id",
         "created_date", "last_modified_date", "system_modstamp"],
        opps,
    )  # fmt: skip


def seed(sizes, seed_value, base_time, bare=False):
    """A fresh world. `bare`: an org without the SalesWings package's custom objects and
    fields (the sandbox's `missing_metadata`), as before an admin deploys them."""
    written = {}
    timings = {"generate": 0.0, "write": 0.0}
    with transaction.atomic():
        if connection.vendor == "sqlite":
            # Index pages of 100,000-row tables outgrow SQLite's default 2 MB page cache;
            # random-order index inserts then read pages back from the OS, which triples the
            # seeding time. This connection only.
            with connection.cursor() as cur:
                cur.execute("PRAGMA cache_size = -131072")
        wipe()
        tables = generate(sizes, seed_value, base_time)
        while True:
            started = time.perf_counter()
            item = next(tables, None)
            timings["generate"] += time.perf_counter() - started
            if item is None:
                break
            model, (attrs, rows) = item
            started = time.perf_counter()
            with _indexes_dropped(model, len(rows)):
                _insert(model, attrs, rows)
            timings["write"] += time.perf_counter() - started
            written[model.__name__] = len(rows)
            del rows, item
        if connection.vendor == "postgresql":
            _reset_sequences()
    cfg = runtime.load_settings()
    cfg.missing_metadata = saleswings_metadata() if bare else []
    cfg.save(update_fields=["missing_metadata"])
    written["seconds"] = {k: round(v, 1) for k, v in timings.items()}
    return written
