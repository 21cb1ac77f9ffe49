"""The org's metadata (org/), docs/salesforce-model.md and the stand-in's schema
(sandbox/schema.py) describe the same custom fields, field by field; every metadata file is
well-formed XML of the shape Salesforce's Metadata API expects; and the integration permission
set opens every field the org check requires."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sandbox.schema import SOBJECTS
from syncapp.engine import org_check

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "org"
SOURCE = ORG / "force-app" / "main" / "default"
NS = "{http://soap.sforce.com/2006/04/metadata}"
# The Setup type of a custom field -> the describe `type` Salesforce answers for it.
DESCRIBE_TYPE = {
    "Text": "string",
    "LongTextArea": "textarea",
    "DateTime": "datetime",
    "Checkbox": "boolean",
    "Number": "double",
    "Lookup": "reference",
}
# What each Setup type must carry (the Metadata API refuses the field without it), and the
# bounds Salesforce puts on lengths.
REQUIRED_ELEMENTS = {
    "Text": {"length"},
    "LongTextArea": {"length", "visibleLines"},
    "Number": {"precision", "scale"},
    "Checkbox": {"defaultValue"},
    "Lookup": {"referenceTo", "relationshipName", "deleteConstraint"},
    "DateTime": set(),
}
LENGTH_BOUNDS = {"Text": (1, 255), "LongTextArea": (256, 131072)}


# Known differences between the metadata and the stand-in, each with why it is one.
def _text(root, name):
    el = root.find(NS + name)
    return el.text if el is not None else None


def field_files():
    return sorted(SOURCE.glob("objects/*/fields/*.field-meta.xml"))


def metadata_fields():
    """{(object, field): {type, length, external_id, unique, reference_to}} from org/."""
    out = {}
    for path in field_files():
        root = ET.parse(path).getroot()
        kind = _text(root, "type")
        out[(path.parent.parent.name, _text(root, "fullName"))] = {
            "type": DESCRIBE_TYPE[kind],
            "length": int(_text(root, "length") or 0),
            "external_id": _text(root, "externalId") == "true",
            "unique": _text(root, "unique") == "true",
            "reference_to": (_text(root, "referenceTo"),) if kind == "Lookup" else (),
        }
    return out


def sandbox_fields():
    out = {}
    for obj in ("Lead", "Contact", "Account", "Opportunity", "SW_Activity__c"):
        for f in SOBJECTS[obj].fields:
            if not f.custom:
                continue
            out[(obj, f.api)] = {
                "type": f.type,
                "length": f.length if f.type in ("string", "textarea") else 0,
                "external_id": f.external_id,
                "unique": f.unique,
                "reference_to": tuple(f.reference_to),
            }
    return out


def docs_fields():
    """The rows of docs/salesforce-model.md's "The custom fields, field by field" table."""
    text = (ROOT / "docs" / "salesforce-model.md").read_text()
    section = text.split("## The custom fields, field by field", 1)[1].split("\n## ", 1)[0]
    out = {}
    row = re.compile(
        r"^\| (\w+) \| `(\w+)` \| [^|]*\(`(\w+)`\) \| ([\d—]+) \| (yes|—) \| (yes|—) \|$"
    )
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| object") or line.startswith("|---"):
            continue
        m = row.match(line)
        assert m, f"docs/salesforce-model.md: a row the test cannot read: {line}"
        obj, name, kind, length, ext, unique = m.groups()
        out[(obj, name)] = {
            "type": kind,
            "length": 0 if length == "—" else int(length),
            "external_id": ext == "yes",
            "unique": unique == "yes",
        }
    return out


# --- every file is valid XML of the expected shape --------------------------------------------


@pytest.mark.parametrize("path", field_files(), ids=lambda p: f"{p.parent.parent.name}.{p.name}")
def test_each_field_file_is_a_custom_field_salesforce_accepts(path):
    root = ET.parse(path).getroot()  # a file that is not well-formed XML fails here
    assert root.tag == NS + "CustomField"
    name = _text(root, "fullName")
    assert path.name == f"{name}.field-meta.xml"
    assert name.endswith("__c") and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*__c", name)
    assert "__" not in name[:-3], "Salesforce refuses two underscores in a row in an API name"
    assert _text(root, "label")
    kind = _text(root, "type")
    assert kind in REQUIRED_ELEMENTS, f"{path.name}: type {kind} is not one the sync uses"
    missing = {e for e in REQUIRED_ELEMENTS[kind] if _text(root, e) in (None, "")}
    assert not missing, f"{path.name}: a {kind} field needs {sorted(missing)}"
    if kind in LENGTH_BOUNDS:
        low, high = LENGTH_BOUNDS[kind]
        assert low <= int(_text(root, "length")) <= high
    if _text(root, "externalId") == "true":
        assert kind == "Text", "only Text, Number and Email fields can be External Ids"


def test_the_activity_object_and_the_project_file():
    root = ET.parse(SOURCE / "objects/SW_Activity__c/SW_Activity__c.object-meta.xml").getroot()
    assert root.tag == NS + "CustomObject"
    assert _text(root, "label") == "SW Activity"
    assert _text(root, "pluralLabel") and _text(root, "deploymentStatus") == "Deployed"
    assert root.find(f"{NS}nameField/{NS}type").text == "Text"
    project = json.loads((ORG / "sfdx-project.json").read_text())
    assert project["packageDirectories"] == [{"path": "force-app", "default": True}]
    assert re.fullmatch(r"\d+\.0", project["sourceApiVersion"])


@pytest.mark.parametrize("name", ["SW_Studio_Integration", "SW_Studio_Read_Only"])
def test_each_permission_set_is_valid_and_covers_every_field(name):
    root = ET.parse(SOURCE / f"permissionsets/{name}.permissionset-meta.xml").getroot()
    assert root.tag == NS + "PermissionSet" and _text(root, "label")
    perms = {
        p.find(NS + "field").text: (
            p.find(NS + "readable").text == "true",
            p.find(NS + "editable").text == "true",
        )
        for p in root.findall(NS + "fieldPermissions")
    }
    expected = {f"{obj}.{field}" for obj, field in metadata_fields()}
    assert set(perms) == expected
    edit = name == "SW_Studio_Integration"
    assert all(perm == (True, edit) for perm in perms.values())
    objects = {
        p.find(NS + "object").text: {c.tag.removeprefix(NS): c.text for c in p}
        for p in root.findall(NS + "objectPermissions")
    }
    activity = objects["SW_Activity__c"]
    assert activity["allowRead"] == "true"
    assert activity["allowCreate"] == activity["allowEdit"] == ("true" if edit else "false")
    if edit:
        for obj in ("Lead", "Contact", "Account", "Opportunity"):
            assert objects[obj]["allowRead"] == objects[obj]["allowEdit"] == "true"
        api = [p.find(NS + "name").text for p in root.findall(NS + "userPermissions")]
        assert api == ["ApiEnabled"]


# --- the three descriptions agree ---------------------------------------------------------


def test_metadata_and_docs_agree_field_by_field():
    meta = {
        k: {n: v for n, v in d.items() if n != "reference_to"} for k, d in metadata_fields().items()
    }
    assert docs_fields() == meta


def _pairs():
    # From the file names, not their content: a file that is not XML fails the tests that
    # read it (each named), not the collection of this module.
    shipped = {
        (p.parent.parent.name, p.name.removesuffix(".field-meta.xml")) for p in field_files()
    }
    return sorted(shipped | set(sandbox_fields()))


@pytest.mark.parametrize("key", [pytest.param(k, id=".".join(k)) for k in _pairs()])
def test_metadata_and_the_stand_in_agree(key):
    assert metadata_fields().get(key) == sandbox_fields().get(key)


def test_every_field_the_org_check_requires_ships_in_org():
    """What the sync reads or writes (the org check's list, with the seeded mappings' score
    fields) is deployed by org/; standard fields are the org's own."""
    shipped = set(metadata_fields())
    required = {
        (r.obj, r.field)
        for r in org_check.requirements(
            activity_sync=True,
            score_fields={
                obj: ["SW_Engagement_Score__c", "SW_Fit_Score__c"]
                for obj in ("Lead", "Contact", "Account", "Opportunity")
            },
        )
        if r.field and r.field.endswith("__c")
    }
    assert required <= shipped, sorted(required - shipped)
    assert required == shipped, f"org/ ships fields the sync never uses: {shipped - required}"
