"""manage.py checkorg: is the org ready for the sync? One line per gap, with its fix."""

import json

from django.core.management.base import BaseCommand, CommandError

from syncapp.engine import org_check
from syncapp.models import OrgCheck

# Exit codes: 0 ready (warnings may remain), 1 gaps that keep cycles from starting, 2 the org
# could not be checked (it did not answer, or refused the login).
READY, GAPS, UNREACHABLE = 0, 1, 2


class Command(BaseCommand):
    help = (
        "Check the org for every object and field the sync uses (present, type, readable and "
        "editable by the integration user, External Id), the API version, the daily API "
        "calls left and the integration user. Keeps the result for the Setup page. Exit "
        "code: 0 ready, 1 gaps that block cycles, 2 the org could not be checked."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="Seconds to wait to connect and for each answer (default: "
            "SALESFORCE_CHECK_TIMEOUT). No retries.",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        timeout = options["timeout"]
        if timeout is not None and timeout <= 0:
            raise CommandError("--timeout: a number of seconds above 0.")
        row = org_check.run(OrgCheck.Source.COMMAND, timeout=timeout)
        if options["json"]:
            self.stdout.write(json.dumps(as_json(row), indent=2))
        else:
            self.stdout.write("\n".join(report_lines(row)))
        if row.status == OrgCheck.Status.UNREACHABLE:
            raise SystemExit(UNREACHABLE)
        if row.status == OrgCheck.Status.GAPS:
            raise SystemExit(GAPS)


def as_json(row):
    return {
        "status": row.status,
        "checked_at": row.finished_at.isoformat() if row.finished_at else None,
        "error": row.error,
        "findings": row.findings,
        "facts": row.facts,
    }


def report_lines(row):
    facts = row.facts or {}
    lines = []
    if row.status == OrgCheck.Status.UNREACHABLE:
        lines.append(f"Could not check the org: {row.error}")
    else:
        user = facts.get("user") or {}
        who = user.get("username") or "?"
        extra = (
            ", ".join(f"{k} {user[k]}" for k in ("profile", "role") if user.get(k))
            or "profile and role not readable"
        )
        lines.append(f"Org {facts.get('org_id') or '?'} at {facts.get('instance_url') or '?'}")
        lines.append(f"Integration user: {who} ({extra})")
        versions = facts.get("versions")
        served = (
            f" (the org serves {versions['oldest']} to {versions['newest']})" if versions else ""
        )
        lines.append(f"API version: {facts.get('api_version')}{served}")
        daily = facts.get("daily_api")
        if daily:
            lines.append(f"Daily API calls left: {daily['remaining']} of {daily['max']}")
    for finding in row.findings:
        mark = "GAP" if finding["severity"] == org_check.ERROR else "WARN"
        lines.append(f"{mark} {org_check.finding_line(finding)}")
    if row.status == OrgCheck.Status.PASSED:
        lines.append(
            "Ready: every object and field the sync uses is there and editable"
            + (f" ({len(row.warnings)} warning(s))." if row.warnings else ".")
        )
    elif row.status == OrgCheck.Status.GAPS:
        lines.append(f"Not ready: {len(row.blocking)} gap(s) keep cycles from starting.")
    return lines
