"""The Salesforce stand-in's objects and fields (docs/salesforce-model.md), and describe."""

import contextvars
from dataclasses import dataclass, field, replace

from . import models
from .ids import make_id, parse_id

SW_ACTIVITY_PREFIX = "a0S"


@dataclass(frozen=True)
class FieldDef:
    api: str
    attr: str
    type: str  # id string email textarea boolean datetime date double reference picklist
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    reference_to: tuple = ()
    required: bool = False  # on create (not nillable, no default)
    custom: bool = False
    label: str = ""

    # SOQL cannot filter, sort or group on a Long Text Area (a textarea longer than 255):
    # describe says so, and WHERE / ORDER BY / GROUP BY on one is INVALID_FIELD.
    @property
    def long_text(self):
        return self.type == "textarea" and self.length > 255

    @property
    def filterable(self):
        return not self.long_text

    @property
    def sortable(self):
        return not self.long_text

    @property
    def groupable(self):
        # As Salesforce's describe: numbers and date-times cannot be grouped either.
        return not self.long_text and self.type not in ("double", "datetime")


def _f(api, attr, type_, length=0, **kw):
    if api.endswith("__c"):
        kw.setdefault("custom", True)
    kw.setdefault("label", api.removesuffix("__c").replace("_", " ").removeprefix("SW "))
    return FieldDef(api, attr, type_, length, **kw)


def _system_fields():
    return [
        _f("Id", "id", "id", 18, nillable=False, createable=False, updateable=False),
        _f("IsDeleted", "is_deleted", "boolean", nillable=False, createable=False,
           updateable=False),
        _f("CreatedDate", "created_date", "datetime", nillable=False, createable=False,
           updateable=False),
        _f("LastModifiedDate", "last_modified_date", "datetime", nillable=False,
           createable=False, updateable=False),
        _f("SystemModstamp", "system_modstamp", "datetime", nillable=False, createable=False,
           updateable=False),
    ]  # fmt: skip


def _sw_fields(person=True):
    out = []
    if person:
        out.append(
            _f("SW_Prospect_Id__c", "sw_prospect_id", "string", 40, external_id=True,
               label="SW Prospect Id")
        )  # fmt: skip
    out += [
        _f("SW_Tags__c", "sw_tags", "textarea", 131072, label="SW Tags"),
        _f("SW_Temperature__c", "sw_temperature", "string", 10, label="SW Temperature"),
    ]
    if person:
        out += [
            _f("SW_Last_Visit__c", "sw_last_visit", "datetime", label="SW Last Visit"),
            _f("SW_Favorite__c", "sw_favorite", "boolean", nillable=False, label="SW Favorite"),
        ]
    out += [
        _f("SW_Engagement_Score__c", "sw_engagement_score", "double", label="SW Engagement Score"),
        _f("SW_Fit_Score__c", "sw_fit_score", "double", label="SW Fit Score"),
    ]
    return out


@dataclass
class SObject:
    name: str
    label: str
    prefix: str
    model: type
    fields: list
    custom: bool = False
    variant: str = ""  # "" for the whole object; else what field security / metadata hides
    by_api: dict = field(default_factory=dict)
    by_lower: dict = field(default_factory=dict)
    has_email_lower: bool = False

    def __post_init__(self):
        self.has_email_lower = any(f.name == "email_lower" for f in self.model._meta.fields)
        self.by_api = {f.api: f for f in self.fields}
        self.by_lower = {f.api.lower(): f for f in self.fields}

    def field(self, name):
        f = self.by_api.get(name)  # the usual spelling first: no lower() per field and record
        return f if f is not None else self.by_lower.get(name.lower())

    def make_id(self, pk):
        return make_id(self.prefix, pk)

    def parse_id(self, value):
        return parse_id(value, self.prefix)

    @property
    def table(self):
        return self.model._meta.db_table


_OWNER = _f("OwnerId", "owner_id", "reference", 18, reference_to=("User",))
# A Lead may be owned by a queue (a Group of Type Queue, Id 00G...), as in Salesforce.
_LEAD_OWNER = _f("OwnerId", "owner_id", "reference", 18, reference_to=("Group", "User"))

SOBJECTS = {
    s.name: s
    for s in [
        SObject(
            "Lead", "Lead", "00Q", models.SfLead,
            _system_fields()
            + [
                _f("FirstName", "first_name", "string", 40),
                _f("LastName", "last_name", "string", 80, nillable=False, required=True),
                _f("Email", "email", "email", 80),
                _f("Company", "company", "string", 255, nillable=False, required=True),
                _f("Status", "status", "picklist", 40, nillable=False),
                _f("IsConverted", "is_converted", "boolean", nillable=False, updateable=False),
                _f("ConvertedDate", "converted_date", "date", createable=False,
                   updateable=False),
                _f("ConvertedContactId", "converted_contact_id", "reference", 18,
                   createable=False, updateable=False, reference_to=("Contact",)),
                _f("ConvertedAccountId", "converted_account_id", "reference", 18,
                   createable=False, updateable=False, reference_to=("Account",)),
                _LEAD_OWNER,
            ]
            + _sw_fields(),
        ),
        SObject(
            "Contact", "Contact", "003", models.SfContact,
            _system_fields()
            + [
                _f("FirstName", "first_name", "string", 40),
                _f("LastName", "last_name", "string", 80, nillable=False, required=True),
                _f("Email", "email", "email", 80),
                _f("AccountId", "account_id", "reference", 18, reference_to=("Account",)),
                _OWNER,
            ]
            + _sw_fields(),
        ),
        SObject(
            "Account", "Account", "001", models.SfAccount,
            _system_fields()
            + [_f("Name", "name", "string", 255, nillable=False, required=True), _OWNER]
            + _sw_fields(person=False),
        ),
        SObject(
            "Opportunity", "Opportunity", "006", models.SfOpportunity,
            _system_fields()
            + [
                _f("Name", "name", "string", 120, nillable=False, required=True),
                _f("AccountId", "account_id", "reference", 18, reference_to=("Account",)),
                _f("StageName", "stage_name", "picklist", 40, nillable=False, required=True),
                _f("CloseDate", "close_date", "date", nillable=False, required=True),
                _OWNER,
            ]
            + [f for f in _sw_fields(person=False) if f.api != "SW_Temperature__c"],
        ),
        SObject(
            "SW_Activity__c", "SW Activity", SW_ACTIVITY_PREFIX, models.SfActivity,
            _system_fields()
            + [
                _f("Name", "name", "string", 80),
                _f("SW_Activity_Id__c", "sw_activity_id", "string", 40, external_id=True,
                   unique=True, label="SW Activity Id"),
                _f("SW_Prospect_Id__c", "sw_prospect_id", "string", 40, label="SW Prospect Id"),
                _f("Lead__c", "lead", "reference", 18, reference_to=("Lead",)),
                _f("Contact__c", "contact", "reference", 18, reference_to=("Contact",)),
                _f("Type__c", "type", "string", 40),
                _f("Occurred_At__c", "occurred_at", "datetime", label="Occurred At"),
                _f("URL__c", "url", "textarea", 1000),
                _f("Title__c", "title", "string", 255),
            ],
            custom=True,
        ),
        SObject(
            "Group", "Group", "00G", models.SfGroup,
            _system_fields()
            + [
                _f("Name", "name", "string", 40, nillable=False, required=True),
                _f("DeveloperName", "developer_name", "string", 80, nillable=False,
                   required=True),
                _f("Type", "type", "picklist", 40, nillable=False),
            ],
        ),
        SObject(
            "User", "User", "005", models.SfUser,
            _system_fields()
            + [
                _f("FirstName", "first_name", "string", 40),
                _f("LastName", "last_name", "string", 80, nillable=False, required=True),
                _f("Name", "name", "string", 121, createable=False, updateable=False),
                _f("Email", "email", "email", 80, nillable=False, required=True),
                _f("Username", "username", "string", 80, nillable=False, required=True),
                _f("IsActive", "is_active", "boolean", nillable=False),
            ],
        ),
    ]
}  # fmt: skip
SOBJECTS_LOWER = {k.lower(): v for k, v in SOBJECTS.items()}
PREFIXES = {s.prefix: s for s in SOBJECTS.values()}


# What the running request's org shows its user: (field security, missing metadata), set
# from the sandbox settings for each API call (sf_views.api); None shows everything.
ORG_VIEW = contextvars.ContextVar("sandbox_org_view", default=None)
_VARIANTS = {}  # (object, security items, missing) -> SObject, or None when not deployed


def org_view(cfg):
    """The view of the org the settings give (hashable), or None for the whole org."""
    security = tuple(sorted((cfg.field_security or {}).items()))
    missing = tuple(sorted(cfg.missing_metadata or ()))
    return (security, missing) if security or missing else None


def _restricted(sobj, view):
    security, missing = view
    key = (sobj.name, view)
    if key in _VARIANTS:
        return _VARIANTS[key]
    out = None
    if sobj.name not in missing:
        access = {
            k.partition(".")[2].lower(): v for k, v in security if k.partition(".")[0] == sobj.name
        }
        gone = {m.partition(".")[2].lower() for m in missing if m.partition(".")[0] == sobj.name}
        fields = []
        for f in sobj.fields:
            name = f.api.lower()
            if name in gone or access.get(name) == "none":
                continue
            if access.get(name) == "read":
                f = replace(f, createable=False, updateable=False)
            fields.append(f)
        if len(fields) == len(sobj.fields) and not any(
            access.get(f.api.lower()) for f in sobj.fields
        ):
            out = sobj
        else:
            out = SObject(sobj.name, sobj.label, sobj.prefix, sobj.model, fields, sobj.custom,
                          variant=repr(view))  # fmt: skip
    _VARIANTS[key] = out
    return out


def get_sobject(name):
    sobj = SOBJECTS_LOWER.get((name or "").lower())
    view = ORG_VIEW.get()
    if sobj is None or view is None:
        return sobj
    return _restricted(sobj, view)


def saleswings_metadata():
    """The custom objects and fields the SalesWings package adds to an org (a bare org lacks
    them all), as `missing_metadata` names them."""
    out = []
    for s in SOBJECTS.values():
        if s.custom:
            out.append(s.name)
        else:
            out += [f"{s.name}.{f.api}" for f in s.fields if f.custom]
    return out


def visible_sobjects():
    """Every object of the org as the running request sees it (describe global)."""
    return [s for s in (get_sobject(n) for n in SOBJECTS) if s is not None]


def sobject_for_id(value):
    if isinstance(value, str) and len(value) in (15, 18):
        return PREFIXES.get(value[:3])
    return None


_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "double": "xsd:double",
}


def describe_field(f):
    return {
        "name": f.api,
        "label": f.label,
        "type": f.type,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"),
        "length": f.length if f.type not in ("boolean", "datetime", "date", "double") else 0,
        "precision": 18 if f.type == "double" else 0,
        "scale": 0,
        "nillable": f.nillable,
        "createable": f.createable,
        "updateable": f.updateable,
        "filterable": f.filterable,
        "sortable": f.sortable,
        "groupable": f.groupable,
        "externalId": f.external_id,
        "unique": f.unique,
        "idLookup": f.api == "Id" or f.external_id or f.type == "email",
        "custom": f.custom,
        "calculated": False,
        "extraTypeInfo": "plaintextarea" if f.type == "textarea" else None,
        "defaultedOnCreate": f.type == "boolean" or f.api in ("Id", "OwnerId"),
        "referenceTo": list(f.reference_to),
        "relationshipName": None,
    }


def describe_global_entry(s, version):
    base = f"/services/data/v{version}/sobjects/{s.name}"
    return {
        "name": s.name,
        "label": s.label,
        "labelPlural": s.label + "s",
        "keyPrefix": s.prefix,
        "custom": s.custom,
        "createable": s.name != "User",
        "updateable": True,
        "deletable": s.name != "User",
        "queryable": True,
        "searchable": True,
        "urls": {
            "sobject": base,
            "describe": base + "/describe",
            "rowTemplate": base + "/{ID}",
        },
    }


def describe(s, version):
    out = describe_global_entry(s, version)
    out["fields"] = [describe_field(f) for f in s.fields]
    out["childRelationships"] = []
    out["recordTypeInfos"] = []
    return out
