"""An org at the network seam for the org check: the sandbox stand-in's describes
(sandbox/schema.py), which a test changes to make an org that lacks fields, hides them
(field-level security), makes them read-only or of another type. Every call is logged."""

import copy
import types

from sandbox.schema import SOBJECTS, describe
from syncapp.salesforce.errors import PermanentError, TransientError

USERNAME = "integration@acme.example"
USER_ID = "005000000000001AAA"


class DescribedOrg:
    def __init__(self):
        self.config = types.SimpleNamespace(api_version="59.0")
        self.objects = {name: describe(s, "59.0") for name, s in SOBJECTS.items()}
        self.served = ["57.0", "58.0", "59.0", "60.0", "61.0", "62.0"]
        self.daily_max, self.daily_used = 100000, 1000
        self.profile, self.role = None, None
        self.down = None  # an exception every call raises (an org that does not answer)
        self.log = []  # (call, argument) of every call

    # --- making the org -----------------------------------------------------------------

    def bare(self):
        """The standard objects without the SalesWings fields and object."""
        self.objects.pop("SW_Activity__c")
        for described in self.objects.values():
            described["fields"] = [f for f in described["fields"] if not f["custom"]]
        return self

    def drop(self, obj, field):
        """The field is gone, or the integration user cannot read it (FLS: not described)."""
        fields = self.objects[obj]["fields"]
        self.objects[obj]["fields"] = [f for f in fields if f["name"] != field]

    def change(self, obj, field, **attrs):
        for f in self.objects[obj]["fields"]:
            if f["name"] == field:
                f.update(attrs)
                return
        raise KeyError(f"{obj}.{field}")

    def add(self, obj, field, type_="double", **attrs):
        base = {"name": field, "type": type_, "updateable": True, "createable": True}
        self.objects[obj]["fields"].append({**base, "custom": field.endswith("__c"), **attrs})

    def with_profile(self, profile, role):
        self.profile, self.role = profile, role
        self.add("User", "ProfileId", "reference")
        self.add("User", "UserRoleId", "reference")

    # --- the seam's interface ---------------------------------------------------------------

    def _call(self, name, arg=None):
        self.log.append((name, arg))
        if self.down is not None:
            raise self.down

    def identity(self):
        self._call("identity")
        return {
            "org_id": "00D000000000001",
            "instance_url": "https://acme.my.salesforce.com",
            "username": USERNAME,
            "user_id": USER_ID,
            "daily_used": self.daily_used,
            "daily_max": self.daily_max,
        }

    def versions(self):
        self._call("versions")
        return list(self.served)

    def describe(self, obj):
        self._call("describe", obj)
        if obj not in self.objects:
            raise PermanentError(
                f"Salesforce describe {obj}: HTTP 404 NOT_FOUND: The requested resource does "
                "not exist",
                code="NOT_FOUND",
                status=404,
            )
        return copy.deepcopy(self.objects[obj])

    def fields(self, obj):
        return {f["name"]: f for f in self.describe(obj)["fields"]}

    def query(self, soql, **_):
        self._call("query", soql)
        yield {"Profile": {"Name": self.profile}, "UserRole": {"Name": self.role}}


def unreachable():
    return TransientError("Salesforce login: ConnectTimeout: timed out (gave up after 1 attempts)")
