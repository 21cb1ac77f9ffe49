"""A straightforward computation of what the org should hold, from the backend's state alone
(independent of the steps' code), for the correctness tests."""

import datetime as dt

SW_PERSON = [
    "SW_Prospect_Id__c",
    "SW_Tags__c",
    "SW_Temperature__c",
    "SW_Last_Visit__c",
    "SW_Favorite__c",
    "SW_Engagement_Score__c",
    "SW_Fit_Score__c",
]
SCORE_FIELDS = {"engagement": "SW_Engagement_Score__c", "fit": "SW_Fit_Score__c"}
HOT = {"Hot": 3, "Warm": 2, "Cold": 1}


def _when(value):
    return dt.datetime.fromisoformat(value) if value else None


def person_values(prospect, sw):
    names = {t["id"]: t["name"] for t in sw.tag_list}
    tags = sorted(names[t] for t in prospect["tags"] if t in names)
    out = {
        "SW_Prospect_Id__c": prospect["id"],
        "SW_Tags__c": ";".join(tags) or None,
        "SW_Temperature__c": prospect["temperature"],
        "SW_Last_Visit__c": _when(prospect["lastVisit"]),
        "SW_Favorite__c": bool(prospect["favorite"]),
    }
    for score, field in SCORE_FIELDS.items():
        out[field] = prospect["scores"].get(score)
    return out


def held(record, fields=SW_PERSON):
    out = {}
    for f in fields:
        v = record.get(f)
        if f == "SW_Last_Visit__c":
            v = _when(v)
        elif isinstance(v, float):
            v = int(v) if v.is_integer() else v
        elif v == "":
            v = None
        out[f] = v
    return out


CLEARED = dict.fromkeys(SW_PERSON) | {"SW_Favorite__c": False}


def expected_people(sf, sw):
    """{record id: SalesWings values} for every unconverted Lead and every Contact."""
    active = {
        p["email"].lower(): p
        for _, p in sw.prospect_rows
        if isinstance(p, dict) and p.get("lifecycle") == "Active" and p.get("email")
    }
    out = {}
    for obj in ("Lead", "Contact"):
        for rid, r in sf.db[obj].items():
            if obj == "Lead" and r["IsConverted"]:
                continue
            p = active.get((r["Email"] or "").lower())
            out[rid] = person_values(p, sw) if p else CLEARED
    return out


def expected_accounts(sf):
    out = {}
    for aid in sf.db["Account"]:
        contacts = [
            c for c in sf.db["Contact"].values() if c["AccountId"] == aid and c["SW_Prospect_Id__c"]
        ]
        tags = sorted({t for c in contacts for t in (c["SW_Tags__c"] or "").split(";") if t})
        temps = [c["SW_Temperature__c"] for c in contacts if c["SW_Temperature__c"]]
        values = {
            "SW_Tags__c": ";".join(tags) or None,
            "SW_Temperature__c": max(temps, key=HOT.get) if temps else None,
        }
        for field in SCORE_FIELDS.values():
            nums = [c[field] for c in contacts if c[field] is not None]
            values[field] = max(nums) if nums else None
        out[aid] = values
    return out


ACCOUNT_FIELDS = ["SW_Tags__c", "SW_Temperature__c", *SCORE_FIELDS.values()]
OPP_FIELDS = ["SW_Tags__c", *SCORE_FIELDS.values()]
