"""The org check: does the org hold every object and field the sync reads or writes, of a
compatible type, readable and editable by the integration user, with the External Id the
sync upserts by? And the API version, the daily API calls left, the integration user.

Every gap is one finding: its object and field, what is wrong and how to fix it. A finding
of severity "error" blocks cycles (`syncapp.engine.preflight.org_ready`); a "warning" does
not (a field only an option that is off needs, a shorter text than org/ deploys, ...).

Salesforce leaves out of an object's describe the fields the running user cannot read
(field-level security), and marks the ones it cannot edit not `updateable`: so one describe
per object says both whether a field is there and what the integration user may do with it.
The seam only describes and queries; the judging is here.

Results are kept (`OrgCheck`): pages show the last one and never ask the org themselves.
"""

import hashlib
import json
import logging
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from syncapp.engine import clients
from syncapp.engine.field_mappings import SCORE_FIELD_TYPES
from syncapp.models import FieldMapping, OrgCheck, StudioOptions
from syncapp.salesforce.errors import SalesforceError

log = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"
INTEGRATION_PERMSET = "SW_Studio_Integration"
# `sf project deploy start` runs inside the Salesforce DX project (org/sfdx-project.json).
DEPLOY = (
    "deploy org/ (`cd org && sf project deploy start --source-dir force-app --target-org <org>`)"
)
TEXT = ("string", "textarea")


@dataclass(frozen=True)
class Requirement:
    """One object (`field` None) or field the sync uses."""

    obj: str
    field: str | None = None
    types: tuple = ()  # describe types it may have (empty: any)
    edit: bool = False  # the sync writes it: updateable
    create: bool = False  # the sync creates records holding it: createable
    external_id: bool = False  # the sync upserts by it
    indexed: bool = False  # the sync filters by it: External Id (indexed) is advised
    length: int = 0  # what org/ deploys: a shorter text field refuses longer values
    needed: bool = True  # False: only an option that is off uses it (gaps are warnings)
    why: str = ""  # what uses it, when not every cycle

    @property
    def name(self):
        return f"{self.obj}.{self.field}" if self.field else self.obj

    @property
    def custom(self):
        return bool(self.field and self.field.endswith("__c")) or (
            self.field is None and self.obj.endswith("__c")
        )


def _person(obj):
    reads = [
        Requirement(obj, "Id"),
        Requirement(obj, "Email", ("email", "string")),
        Requirement(obj, "FirstName", TEXT),
        Requirement(obj, "LastName", TEXT),
        Requirement(obj, "OwnerId", ("reference",)),
        Requirement(obj, "SystemModstamp", ("datetime",)),
    ]
    reads.append(
        Requirement(obj, "IsConverted", ("boolean",))
        if obj == "Lead"
        else Requirement(obj, "AccountId", ("reference",))
    )
    writes = [
        Requirement(obj, "SW_Prospect_Id__c", TEXT, edit=True, indexed=True, length=40),
        Requirement(obj, "SW_Tags__c", TEXT, edit=True, length=131072),
        Requirement(obj, "SW_Temperature__c", ("string", "picklist"), edit=True, length=10),
        Requirement(obj, "SW_Last_Visit__c", ("datetime",), edit=True),
        Requirement(obj, "SW_Favorite__c", ("boolean",), edit=True),
    ]
    return [Requirement(obj), *reads, *writes]


def requirements(*, activity_sync, score_fields):
    """Everything the sync reads or writes, given whether Activity Sync is on and the Field
    Mappings' targets ({object: [field, ...]}).

    Account and Opportunity fields are needed whatever the options: with Account Aggregation
    (and the Opportunity options) on the steps write them, with them off CleanOtherRecords
    clears what is left in them.
    """
    out = [*_person("Lead"), *_person("Contact")]
    out += [
        Requirement("Account"),
        Requirement("Account", "Id"),
        Requirement("Account", "SW_Tags__c", TEXT, edit=True, length=131072),
        Requirement("Account", "SW_Temperature__c", ("string", "picklist"), edit=True, length=10),
        Requirement("Opportunity"),
        Requirement("Opportunity", "Id"),
        Requirement("Opportunity", "AccountId", ("reference",)),
        Requirement("Opportunity", "SW_Tags__c", TEXT, edit=True, length=131072),
        Requirement("User"),
        Requirement("User", "Id"),
        Requirement("User", "Email", ("email", "string")),
    ]
    for obj, fields in sorted(score_fields.items()):
        for field in sorted(set(fields)):
            out.append(Requirement(obj, field, SCORE_FIELD_TYPES, edit=True, why="a Field Mapping"))
    why = "" if activity_sync else "Activity Sync (off now)"
    activity = dict(needed=activity_sync, why=why)
    out += [
        Requirement("SW_Activity__c", create=True, edit=True, **activity),
        Requirement(
            "SW_Activity__c", "SW_Activity_Id__c", TEXT, edit=True, create=True,
            external_id=True, length=40, **activity,
        ),
        Requirement("SW_Activity__c", "SW_Prospect_Id__c", TEXT, edit=True, create=True,
                    length=40, **activity),
        Requirement("SW_Activity__c", "Lead__c", ("reference",), edit=True, create=True,
                    **activity),
        Requirement("SW_Activity__c", "Contact__c", ("reference",), edit=True, create=True,
                    **activity),
        Requirement("SW_Activity__c", "Type__c", ("string", "picklist"), edit=True,
                    create=True, length=40, **activity),
        Requirement("SW_Activity__c", "Occurred_At__c", ("datetime",), edit=True, create=True,
                    **activity),
        Requirement("SW_Activity__c", "URL__c", (*TEXT, "url"), edit=True, create=True,
                    length=1000, **activity),
        Requirement("SW_Activity__c", "Title__c", TEXT, edit=True, create=True, length=255,
                    **activity),
    ]  # fmt: skip
    return out


def current_requirements():
    """`requirements` for the Studio Options and Field Mappings saved now."""
    options = StudioOptions.load()
    score_fields = {}
    for obj, field in FieldMapping.objects.filter(score__active=True).values_list(
        "object", "field"
    ):
        score_fields.setdefault(obj, []).append(field)
    return requirements(activity_sync=options.activity_sync, score_fields=score_fields)


def fingerprint(reqs):
    """A digest of what is required: a kept result vouches only for the same requirements."""
    data = json.dumps([asdict(r) for r in reqs], sort_keys=True, default=list)
    return hashlib.sha256(data.encode()).hexdigest()


@dataclass
class Result:
    reachable: bool
    error: str = ""
    findings: list = None
    facts: dict = None

    def __post_init__(self):
        self.findings = self.findings or []
        self.facts = self.facts or {}

    @property
    def blocking(self):
        return [f for f in self.findings if f["severity"] == ERROR]


def finding_line(finding):
    """One line: what is wrong, and how to fix it."""
    where = ".".join(p for p in (finding.get("object"), finding.get("field")) if p)
    where = f"{where}: " if where else ""
    return f"{where}{finding['problem']}. Fix: {finding['fix']}."


# --- the check -------------------------------------------------------------------------------


class _Findings(list):
    def blocking(self):
        return [f for f in self if f["severity"] == ERROR]

    def add(self, req, problem, fix, *, severity=None):
        if severity is None:
            severity = ERROR if req is None or req.needed else WARNING
        if req is not None and req.why and severity == WARNING and not req.needed:
            problem = f"{problem} (needed with {req.why})"
        self.append(
            {
                "severity": severity,
                "object": req.obj if req else "",
                "field": (req.field or "") if req else "",
                "problem": problem,
                "fix": fix,
            }
        )


def _assign(username):
    who = username or "the integration user"
    return (
        f"assign the permission set {INTEGRATION_PERMSET} to {who} (`sf org assign permset "
        f"--name {INTEGRATION_PERMSET} --on-behalf-of {who} --target-org <org>`)"
    )


def check(sf, reqs, *, api_version, reserve=0):
    """Check the org behind the seam client `sf` against `reqs`. Never raises for what the
    org answers: an org that cannot be reached or logged into gives `reachable=False`."""
    findings = _Findings()
    facts = {"api_version": api_version}
    try:
        identity = sf.identity()
    except SalesforceError as exc:
        return Result(reachable=False, error=str(exc) or type(exc).__name__, facts=facts)
    username = identity.get("username") or ""
    facts["user"] = {"username": username, "id": identity.get("user_id") or ""}
    facts["org_id"] = identity.get("org_id") or ""
    facts["instance_url"] = identity.get("instance_url") or ""
    daily_max, used = identity.get("daily_max"), identity.get("daily_used")
    if isinstance(daily_max, int) and isinstance(used, int):
        facts["daily_api"] = {"max": daily_max, "remaining": daily_max - used}
        remaining = daily_max - used
        if reserve and remaining < reserve:
            findings.add(
                None,
                f"the org has {remaining} daily API calls left, below Studio Options' reserve "
                f"of {reserve}: no cycle starts until the 24-hour count drops",
                "wait, lower the reserve, or raise the org's API allowance",
                severity=WARNING,
            )
    try:
        _check_versions(sf, api_version, facts, findings)
        if not findings.blocking():
            _check_objects(sf, reqs, username, facts, findings)
    except SalesforceError as exc:
        return Result(
            reachable=False, error=str(exc) or type(exc).__name__, findings=findings, facts=facts
        )
    return Result(reachable=True, findings=list(findings), facts=facts)


def _version_key(v):
    try:
        return float(v)
    except ValueError:
        return 0.0


def _check_versions(sf, api_version, facts, findings):
    served = sf.versions()
    if not served or not api_version:
        facts["versions"] = None
        return
    served = sorted(served, key=_version_key)
    facts["versions"] = {"oldest": served[0], "newest": served[-1]}
    if api_version not in served:
        findings.add(
            None,
            f"the org does not serve API version {api_version} (it serves {served[0]} to "
            f"{served[-1]})",
            f"set SALESFORCE_API_VERSION to {served[-1]}",
            severity=ERROR,
        )


def _check_objects(sf, reqs, username, facts, findings):
    by_object = {}
    for req in reqs:
        by_object.setdefault(req.obj, []).append(req)
    for obj, obj_reqs in by_object.items():
        object_req = next((r for r in obj_reqs if r.field is None), Requirement(obj))
        try:
            described = sf.describe(obj)
        except SalesforceError as exc:
            if exc.status != 404 and exc.code not in ("NOT_FOUND", "INSUFFICIENT_ACCESS"):
                raise
            fix = f"{DEPLOY}, then {_assign(username)}" if object_req.custom else _assign(username)
            findings.add(
                object_req, f"the object is missing or {username or 'the user'} cannot see it", fix
            )
            continue
        if object_req.create and described.get("createable") is False:
            findings.add(
                object_req, "the integration user cannot create records", _assign(username)
            )
        if object_req.edit and described.get("updateable") is False:
            findings.add(object_req, "the integration user cannot edit records", _assign(username))
        fields = {f.get("name"): f for f in described.get("fields", []) if isinstance(f, dict)}
        for req in obj_reqs:
            if req.field is not None:
                _check_field(req, fields.get(req.field), username, findings)
        if obj == "User":
            _running_user(sf, fields, facts)


def _check_field(req, described, username, findings):
    if described is None:
        if req.custom:
            fix = f"{DEPLOY}, then {_assign(username)}"
            if req.why == "a Field Mapping":
                fix = f"{fix}; or point the Field Mapping at a field the org has"
        else:
            fix = (
                f"give {username or 'the integration user'} read access to it (field-level "
                "security in its profile or a permission set)"
            )
        findings.add(req, "missing, or not readable by the integration user", fix)
        return
    kind = described.get("type")
    if req.types and kind not in req.types:
        want = " or ".join(req.types)
        if described.get("calculated"):
            problem = f"a formula ({kind}) field: the sync writes it"
        else:
            problem = f"a {kind} field; the sync needs {want}"
        fix = (
            "point the Field Mapping at a number field"
            if req.why == "a Field Mapping"
            else f"delete the field and {DEPLOY}"
        )
        findings.add(req, problem, fix)
        return
    if req.edit and described.get("updateable") is False:
        findings.add(req, "not editable by the integration user", _assign(username))
    elif req.create and described.get("createable") is False:
        findings.add(req, "the integration user cannot set it on new records", _assign(username))
    if req.external_id and not described.get("externalId"):
        findings.add(
            req,
            "not an External Id: the sync upserts by it, and Salesforce refuses an upsert by "
            "any other field",
            "mark it External Id (Setup › Object Manager › the field › Edit), or " + DEPLOY,
        )
    if req.indexed and not described.get("externalId") and not described.get("unique"):
        findings.add(
            req,
            "not an External Id: the sync looks records up by it, and Salesforce indexes "
            "External Ids only",
            "mark it External Id (Setup › Object Manager › the field › Edit)",
            severity=WARNING,
        )
    length = described.get("length") or 0
    if req.length and kind in ("string", "textarea") and 0 < length < req.length:
        findings.add(
            req,
            f"holds {length} characters, org/ deploys {req.length}: longer values are refused",
            f"raise its length to {req.length}",
            severity=WARNING,
        )


def _running_user(sf, user_fields, facts):
    """The integration user's profile and role, where the org's User has them."""
    user = facts.get("user") or {}
    if not user.get("id") or not {"ProfileId", "UserRoleId"} <= set(user_fields):
        user["profile"] = user["role"] = None
        return
    soql = (
        "SELECT Profile.Name, UserRole.Name FROM User "
        f"WHERE Id = '{user['id'].replace(chr(39), '')}'"
    )
    try:
        rows = list(sf.query(soql))
    except SalesforceError as exc:
        user["profile"] = user["role"] = None
        user["note"] = f"could not read the profile and role: {exc}"
        return
    row = rows[0] if rows else {}
    user["profile"] = (row.get("Profile") or {}).get("Name")
    user["role"] = (row.get("UserRole") or {}).get("Name")


# --- running it and keeping the result ----------------------------------------------------


def run(source, *, user=None, sf=None, timeout=None, check_row=None):
    """Run the check now (network: never inside a transaction) and keep its result.

    `sf`: the client to use; by default the check's own (no retries, short timeouts).
    Returns the kept `OrgCheck`.
    """
    now = timezone.now()
    reqs = current_requirements()
    options = StudioOptions.load()
    if check_row is None:
        check_row = OrgCheck(source=source, requested_at=now, requested_by=user)
    try:
        client = sf if sf is not None else clients.salesforce_check(timeout)
        api_version = getattr(getattr(client, "config", None), "api_version", "")
        result = check(client, reqs, api_version=api_version, reserve=options.api_call_reserve)
    except SalesforceError as exc:  # the settings themselves are wrong (ConfigurationError)
        result = Result(reachable=False, error=str(exc) or type(exc).__name__)
    check_row.record(
        reachable=result.reachable,
        error=result.error,
        findings=result.findings,
        facts=result.facts,
        fingerprint=fingerprint(reqs),
        now=timezone.now(),
    )
    with transaction.atomic():
        check_row.save()
        OrgCheck.objects.prune()
    return check_row


def request(user):
    """Queue a check for a worker (the Setup page's button: pages never wait on the org).
    Returns (the queued row, whether it was queued now): a check already waiting for a
    worker is not asked for twice."""
    with transaction.atomic():
        pending = OrgCheck.objects.filter(status=OrgCheck.Status.QUEUED).first()
        if pending is not None and not is_lost(pending):
            return pending, False
        row = OrgCheck.objects.create(
            source=OrgCheck.Source.SETUP, requested_at=timezone.now(), requested_by=user
        )
        transaction.on_commit(lambda: _enqueue(row.pk))
    return row, True


# A queued check no worker took within this many seconds is shown as lost; a new one may be
# asked for.
LOST_AFTER = 300


def is_lost(row, now=None):
    now = now or timezone.now()
    return (
        row.status == OrgCheck.Status.QUEUED
        and (now - row.requested_at).total_seconds() > LOST_AFTER
    )


def _enqueue(check_id):
    from django_q.tasks import async_task

    async_task("syncapp.engine.jobs.org_check", check_id, task_name=f"SWOrgCheck-{check_id}")


def run_queued(check_id):
    """The worker's side of `request`: run the queued check (once)."""
    with transaction.atomic():
        row = OrgCheck.objects.select_for_update().filter(pk=check_id).first()
        if row is None or row.status != OrgCheck.Status.QUEUED:
            return None
        # Taken: a second delivery of the same task finds it no longer Queued.
        row.status = OrgCheck.Status.UNREACHABLE
        row.error = "The check was interrupted."
        row.finished_at = timezone.now()
        row.save(update_fields=["status", "error", "finished_at"])
    return run(row.source, check_row=row).pk


def last():
    """The last finished result, for pages (no network)."""
    return OrgCheck.objects.select_related("requested_by").last_finished()


def kept_result_holds(row, reqs, max_age, now=None):
    """Whether a kept result still answers for `reqs`: passed, checked against the same
    requirements, within `max_age` seconds."""
    now = now or timezone.now()
    return (
        row is not None
        and row.status == OrgCheck.Status.PASSED
        and row.fingerprint == fingerprint(reqs)
        and row.finished_at is not None
        and (now - row.finished_at).total_seconds() <= max_age
    )
