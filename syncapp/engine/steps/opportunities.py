"""CreateOpportunityTags / CreateOpportunityScores: copy the Account's aggregates onto each of
its Opportunities (Account Aggregation and the matching Opportunity option on)."""

from syncapp.engine import clients
from syncapp.engine.steps import Step
from syncapp.engine.steps.aggregation import held, score_pairs
from syncapp.engine.steps.common import TAGS, changes, chunked, soql_fields, write
from syncapp.models import HeldRecord


class CopyToOpportunities(Step):
    # Each batch makes one chunked `IN (...)` read: SOQL's URI limit holds ~600 Ids (or
    # prospect ids) a statement, so 200 a batch spent a query call per 200; 1,000 fills the
    # statements (2 per batch). Writes still go 200 a collection call.
    default_batch_size = 1000
    option = ""
    part = ""  # its HeldRecord part

    def applies(self, options):
        return options.account_aggregation and getattr(options, self.option)

    def pairs(self):
        """[(account field, opportunity field)]"""
        raise NotImplementedError

    def run(self, ctx):
        pairs = self.pairs()
        if not pairs:
            return
        sf = clients.salesforce()
        opp_fields = [o for _, o in pairs]
        accounts_soql = (
            f"SELECT {soql_fields(['Id', *(a for a, _ in pairs)])} FROM Account "
            "WHERE Id IN ({values})"
        )
        opps = sf.query(
            f"SELECT {soql_fields(['Id', 'AccountId', *opp_fields])} FROM Opportunity "
            "WHERE AccountId != null ORDER BY Id"
        )
        for chunk in chunked(opps, ctx.batch_size):
            with ctx.batch() as batch:
                batch.examined += len(chunk)
                account_ids = sorted({o["AccountId"] for o in chunk})
                accounts = {a["Id"]: a for a in sf.query_in(accounts_soql, account_ids)}
                updates = []
                for opp in chunk:
                    account = accounts.get(opp["AccountId"], {})
                    desired = {o: account.get(a) for a, o in pairs}
                    diff = changes(opp, desired)
                    if diff:
                        updates.append({"Id": opp["Id"], **diff})
                outcome = write(sf, batch, "Opportunity", updates)
                HeldRecord.objects.note("Opportunity", self.part, held(updates, outcome))


class CreateOpportunityTags(CopyToOpportunities):
    name = "CreateOpportunityTags"
    option = "opportunity_tags"
    part = HeldRecord.OPPORTUNITY_TAGS

    def pairs(self):
        return [(TAGS, TAGS)]


class CreateOpportunityScores(CopyToOpportunities):
    name = "CreateOpportunityScores"
    option = "opportunity_scores"
    part = HeldRecord.OPPORTUNITY_SCORES

    def pairs(self):
        return score_pairs("Account", "Opportunity")
