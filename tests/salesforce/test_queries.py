"""Paged queries, chunked IN lists, counts and describes."""

from urllib.parse import quote_plus

import pytest

from syncapp.salesforce import soql


def test_query_reads_every_page_without_attributes(client, org):
    org.rows["Lead"] = [
        {"Id": f"00Q{i}", "Owner": {"attributes": {}, "Email": "o@x"}} for i in range(8)
    ]
    records = list(client.query("SELECT Id, Owner.Email FROM Lead"))
    assert [r["Id"] for r in records] == [f"00Q{i}" for i in range(8)]
    assert all("attributes" not in r and r["Owner"] == {"Email": "o@x"} for r in records)
    assert len(org.data_calls("GET", r"/query")) == 3  # pages of 3: 3 + 3 + 2
    assert client.calls == 3


def test_query_is_lazy(client, org):
    org.rows["Lead"] = [{"Id": f"00Q{i}"} for i in range(9)]
    records = client.query("SELECT Id FROM Lead")
    next(records)
    assert len(org.data_calls("GET", r"/query")) == 1


def test_child_relationship_records_lose_attributes_too(client, org):
    org.rows["Account"] = [
        {
            "Id": "001",
            "Contacts": {
                "totalSize": 1,
                "done": True,
                "records": [{"attributes": {}, "Id": "003"}],
            },
        }
    ]
    [account] = client.query("SELECT Id, (SELECT Id FROM Contacts) FROM Account")
    assert account["Contacts"]["records"] == [{"Id": "003"}]


def test_count(client, org):
    org.rows["Lead"] = [{"Id": f"00Q{i}"} for i in range(5)]
    assert client.count("SELECT COUNT() FROM Lead") == 5


def test_fields_come_from_describe_once(client, org):
    assert set(client.fields("Lead")) == {"Id", "Email", "SW_Tags__c", "SW_Engagement_Score__c"}
    client.fields("Lead")
    assert client.describe("Lead")["name"] == "Lead"
    assert len(org.data_calls("GET", r"/describe")) == 1


def test_quote_escapes_soql_literals():
    assert soql.quote("O'Brien") == r"'O\'Brien'"
    assert soql.quote("a\\b") == r"'a\\b'"
    assert soql.quote('say "hi"\n') == r"'say \"hi\"\n'"


def test_in_chunks_keeps_every_value_once_within_the_limit():
    values = [f"user{i}@example.com" for i in range(2000)] + ["user1@example.com", None]
    template = "SELECT Id FROM Lead WHERE Email IN ({values})"
    statements = list(soql.in_chunks(template, values, chunk_chars=5000))
    assert len(statements) > 1
    seen = []
    for statement in statements:
        assert statement.startswith("SELECT Id FROM Lead WHERE Email IN (")
        inner = statement[len("SELECT Id FROM Lead WHERE Email IN (") : -1]
        assert len(inner) <= 5000
        seen += [v.strip("'") for v in inner.split(",")]
    assert seen == [f"user{i}@example.com" for i in range(2000)]


def test_in_chunks_stays_under_soqls_length_limit_by_default():
    values = [f"{i:06d}-a-rather-long-value-for-a-soql-in-list@example.com" for i in range(5000)]
    statements = list(soql.in_chunks("SELECT Id FROM Lead WHERE Email IN ({values})", values))
    assert len(statements) >= 3
    assert all(len(s) <= soql.SOQL_MAX_LENGTH - soql.SOQL_MARGIN for s in statements)
    assert max(len(s) for s in statements) > 90_000  # the chunks are not needlessly small


def test_in_chunks_fit_the_uri_budget_after_url_encoding():
    values = [f"o'neil+{i}@example.com" for i in range(3000)]
    template = "SELECT Id FROM Lead WHERE Email IN ({values})"
    statements = list(soql.in_chunks(template, values, max_uri_bytes=15000))
    assert all(len(quote_plus(s)) + soql.URI_OVERHEAD <= 15000 for s in statements)
    assert sum(s.count("@") for s in statements) == 3000


def test_in_chunks_needs_the_placeholder_once():
    with pytest.raises(ValueError):
        list(soql.in_chunks("SELECT Id FROM Lead", ["a"]))


def test_query_in_runs_one_query_per_chunk_and_yields_all_records(client, org, sf_settings):
    org.rows["Lead"] = [{"Id": "00Q1"}]
    values = [f"user{i}@example.com" for i in range(100)]
    records = list(
        client.query_in("SELECT Id FROM Lead WHERE Email IN ({values})", values, chunk_chars=600)
    )
    calls = org.data_calls("GET", r"/query")
    assert len(calls) == len(records) > 1
    sent = ",".join(c[2]["q"] for c in calls)
    assert all(f"'{v}'" in sent for v in values)
    assert all(len(c[2]["q"]) < 700 for c in calls)


def test_query_in_with_no_values_makes_no_call(client, org):
    assert list(client.query_in("SELECT Id FROM Lead WHERE Email IN ({values})", [])) == []
    assert org.requests == []


def test_in_chunks_drop_case_variants_soql_would_match_twice():
    [statement] = soql.in_chunks("X IN ({values})", ["Ada@x.com", "ada@X.com", "bob@x.com"])
    assert statement == "X IN ('Ada@x.com','bob@x.com')"


def test_in_statements_counts_the_queries_query_in_sends_without_calling(client, org):
    org.rows["Lead"] = [{"Id": "00Q1"}]
    template = "SELECT Id FROM Lead WHERE Email IN ({values})"
    values = [f"user{i}@example.com" for i in range(3000)]
    expected = client.in_statements(template, values)
    assert org.requests == []
    assert expected > 1
    list(client.query_in(template, values))
    assert len(org.data_calls("GET", r"/query")) == expected
