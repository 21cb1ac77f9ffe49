"""`manage.py sandbox seed|churn|stats|faults|reset-counters|credentials|control-token`."""

import argparse
import datetime as dt
import json
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sandbox import churn, control_views, runtime, seed

# A world of a million prospects takes some GB to seed (275 MiB at 100,000): beyond that a
# typo (10^8) would fill the machine's memory before anything is written.
MAX_RECORDS = 1_000_000


def _share(value):
    try:
        v = float(value)
    except ValueError:
        v = None
    if v is None or not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"a share from 0 to 1, not {value!r}")
    return v


def _bounded(low, high):
    def parse(value):
        try:
            v = int(value)
        except ValueError:
            v = None
        if v is None or not low <= v <= high:
            raise argparse.ArgumentTypeError(
                f"a whole number from {low} to {high:,}, not {value!r}"
            )
        return v

    return parse


_count = _bounded(0, MAX_RECORDS)


class Command(BaseCommand):
    help = "Manage the sandbox (local stand-ins for Salesforce and the SalesWings backend)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        s = sub.add_parser("seed", help="Build a fresh world (replaces the current one).")
        defaults = seed.Sizes()
        s.add_argument("--prospects", type=_count, default=defaults.prospects)
        s.add_argument("--leads", type=_count, default=defaults.leads)
        s.add_argument("--contacts", type=_count, default=defaults.contacts)
        s.add_argument("--accounts", type=_count, default=defaults.accounts)
        s.add_argument("--opportunities", type=_count, default=defaults.opportunities)
        s.add_argument(
            "--match-share",
            type=_share,
            default=defaults.match_share,
            help="Share (0-1) of Leads and Contacts whose e-mail is a prospect's.",
        )
        s.add_argument(
            "--activities-per-prospect",
            type=_bounded(0, 20),
            default=defaults.activities_per_prospect,
        )
        s.add_argument("--seed", type=int, default=42, help="Random seed (reproducible world).")
        s.add_argument(
            "--base-time",
            help="ISO date-time every generated time is relative to (default: now, to the "
            "hour). Give it too for a byte-identical world.",
        )
        s.add_argument(
            "--if-empty", action="store_true", help="Do nothing when a world already exists."
        )
        s.add_argument(
            "--bare",
            action="store_true",
            help="A bare org: the standard objects without the SalesWings custom fields and "
            "SW_Activity__c (the sandbox's missing_metadata setting lists them).",
        )
        c = sub.add_parser("churn", help="Advance the SalesWings world once.")
        # As the control endpoint takes it (POST /sandbox/control/churn?size=).
        c.add_argument("--size", type=_bounded(1, 100_000), default=25)
        c.add_argument("--seed", type=int, default=None)
        sub.add_parser("stats", help="Counters: API calls, faults by kind, records written.")
        sub.add_parser("reset-counters", help="Zero every counter (API usage included).")
        f = sub.add_parser("faults", help="Show the fault settings, or change them.")
        f.add_argument("--set", help="JSON object of changes, e.g. '{\"lock_row_rate\": 0.1}'")
        f.add_argument("--reset", action="store_true", help="Back to no faults.")
        sub.add_parser("credentials", help="Print what the product needs to connect.")
        sub.add_parser(
            "control-token",
            help="Print the token for /sandbox/control/ (Authorization: Token <key>) of the "
            "sandbox's control user (staff, sandbox settings only).",
        )

    def handle(self, *args, action, **opts):
        getattr(self, "do_" + action.replace("-", "_"))(**opts)

    def do_seed(self, **o):
        if o["if_empty"] and not seed.is_empty():
            self.stdout.write("Sandbox: a world already exists; not seeding (--if-empty).")
            self.do_credentials()
            return
        if o["base_time"]:
            try:
                base = dt.datetime.fromisoformat(o["base_time"])
            except ValueError:
                raise CommandError(f"--base-time: not an ISO date-time: {o['base_time']}") from None
            if base.tzinfo is None:
                base = base.replace(tzinfo=dt.UTC)
            if not 2000 <= base.year <= 2100:
                # The world's times reach years around it: near the calendar's ends they overflow.
                raise CommandError(
                    f"--base-time: a date-time from 2000 to 2100, not {base.year:04d}"
                )
        else:
            base = timezone.now().replace(minute=0, second=0, microsecond=0)
        sizes = seed.Sizes(
            prospects=o["prospects"],
            leads=o["leads"],
            contacts=o["contacts"],
            accounts=o["accounts"],
            opportunities=o["opportunities"],
            match_share=o["match_share"],
            activities_per_prospect=o["activities_per_prospect"],
        )
        started = time.perf_counter()
        written = seed.seed(sizes, o["seed"], base, bare=o["bare"])
        took = time.perf_counter() - started
        parts = written.pop("seconds")
        summary = ", ".join(f"{k} {v}" for k, v in written.items())
        self.stdout.write(
            f"Sandbox seeded in {took:.1f} s (generating {parts['generate']} s, writing "
            f"{parts['write']} s; seed {o['seed']}): {summary}"
        )
        self.do_credentials()

    def do_control_token(self, **o):
        self.stdout.write(control_views.control_token())

    def do_credentials(self, **o):
        cfg = runtime.load_settings()
        base = settings.SANDBOX_BASE_URL.rstrip("/")
        self.stdout.write(
            "\n".join(
                [
                    "SalesWings stand-in:",
                    f"  API endpoint   {base}/sandbox/saleswings/api/v1",
                    f"  API token      {cfg.saleswings_token}",
                    "Salesforce stand-in:",
                    f"  instance URL   {base}",
                    f"  token URL      {base}/services/oauth2/token",
                    f"  username       {cfg.sf_username}",
                    f"  password       {cfg.sf_password}",
                    f"  client id      {cfg.sf_client_id}",
                    f"  client secret  {cfg.sf_client_secret}",
                ]
            )
        )

    def do_churn(self, size, seed=None, **o):
        self.stdout.write(json.dumps(churn.churn(size, seed=seed)))

    def do_stats(self, **o):
        self.stdout.write(json.dumps(control_views.stats_json(), indent=2))

    def do_reset_counters(self, **o):
        runtime.reset_counters()
        self.stdout.write("Sandbox counters reset.")

    def do_faults(self, set=None, reset=False, **o):
        cfg = runtime.load_settings()
        changes = dict(control_views.DEFAULTS) if reset else {}
        if set:
            try:
                extra = json.loads(set)
            except ValueError as exc:
                raise CommandError(f"--set: not JSON: {exc}") from None
            if not isinstance(extra, dict):
                raise CommandError("--set: must be a JSON object")
            changes.update(extra)
        if changes:
            try:
                control_views.apply_faults(cfg, changes)
            except ValidationError as exc:
                raise CommandError(f"Invalid fault settings: {exc}") from None
        self.stdout.write(json.dumps(control_views.faults_json(cfg), indent=2))
