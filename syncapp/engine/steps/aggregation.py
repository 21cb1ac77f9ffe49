"""AggregateTags, AggregateScores, AggregateTemperature (Account Aggregation on).

Over an Account's contacts that hold SalesWings data: tags = the union, each score = the
maximum, temperature = the hottest. An Account with no such contact gets its fields cleared.
Recomputed for every Account each cycle, a batch of Accounts at a time (one query of their
contacts per batch): simple, always right even when contacts move between Accounts in
Salesforce, and it writes only the Accounts whose values changed.
"""

from collections import defaultdict

from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.common import (
    HOTNESS,
    PROSPECT_ID,
    TAGS,
    TEMPERATURE,
    changes,
    chunked,
    join_tags,
    soql_fields,
    split_tags,
    write,
)
from syncapp.models import FieldMapping, HeldRecord


def score_pairs(source, target):
    """[(source field, target field)] for each score mapped on both objects."""
    src = FieldMapping.fields_for(source)
    dst = FieldMapping.fields_for(target)
    return [(src[s], dst[s]) for s in sorted(src) if s in dst]


def held(updates, outcome):
    """The Ids of the records written with some data (for CleanOtherRecords' ledger)."""
    return [
        u["Id"]
        for u in updates
        if u["Id"] in outcome
        and outcome[u["Id"]] is None
        and any(v not in (None, "") for k, v in u.items() if k != "Id")
    ]


class Aggregate(Step):
    # Each batch makes one chunked `IN (...)` read: SOQL's URI limit holds ~600 Ids (or
    # prospect ids) a statement, so 200 a batch spent a query call per 200; 1,000 fills the
    # statements (2 per batch). Writes still go 200 a collection call.
    default_batch_size = 1000

    def applies(self, options):
        return options.account_aggregation

    def pairs(self):
        """[(contact field, account field)] this step rolls up."""
        raise NotImplementedError

    def combine(self, account_field, values):
        raise NotImplementedError

    def run(self, ctx):
        pairs = self.pairs()
        if not pairs:
            return
        sf = clients.salesforce()
        account_fields = [a for _, a in pairs]
        contacts_soql = (
            f"SELECT {soql_fields(['AccountId', *(c for c, _ in pairs)])} FROM Contact "
            f"WHERE {PROSPECT_ID} != null AND AccountId IN ({{values}})"
        )
        accounts = sf.query(
            f"SELECT {soql_fields(['Id', *account_fields])} FROM Account ORDER BY Id"
        )
        for chunk in chunked(accounts, ctx.batch_size):
            with ctx.batch() as batch:
                batch.examined += len(chunk)
                values = defaultdict(lambda: defaultdict(list))
                for contact in sf.query_in(contacts_soql, [a["Id"] for a in chunk]):
                    for c_field, a_field in pairs:
                        if contact.get(c_field) not in (None, ""):
                            values[contact["AccountId"]][a_field].append(contact[c_field])
                updates = []
                for account in chunk:
                    desired = {a: self.combine(a, values[account["Id"]][a]) for a in account_fields}
                    diff = changes(account, desired)
                    if diff:
                        updates.append({"Id": account["Id"], **diff})
                outcome = write(sf, batch, "Account", updates)
                HeldRecord.objects.note(
                    "Account", HeldRecord.ACCOUNT_AGGREGATES, held(updates, outcome)
                )


class AggregateTags(Aggregate):
    name = "AggregateTags"

    def pairs(self):
        return [(TAGS, TAGS)]

    def combine(self, account_field, values):
        return join_tags(set().union(*(split_tags(v) for v in values)) if values else [])


class AggregateScores(Aggregate):
    name = "AggregateScores"

    def pairs(self):
        return score_pairs("Contact", "Account")

    def combine(self, account_field, values):
        return max(float(v) for v in values) if values else None


class AggregateTemperature(Aggregate):
    name = "AggregateTemperature"

    def pairs(self):
        return [(TEMPERATURE, TEMPERATURE)]

    def combine(self, account_field, values):
        known = [v for v in values if v in HOTNESS]
        return max(known, key=HOTNESS.get) if known else None
