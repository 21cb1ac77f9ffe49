"""Rules a real org enforces that the stand-in enforces the same way: each test names the
Salesforce rule, with its HTTP status, errorCode and message."""

import datetime as dt
import http.client
import time
from urllib.parse import quote, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sandbox import runtime, seed
from sandbox.errors import SfApiError
from sandbox.models import SfLead, SfQueryCursor
from sandbox.schema import saleswings_metadata
from sandbox.sfstore import MAX_OPEN_CURSORS
from sandbox.soql import MAX_STATEMENT, parse
from tests.sandbox import sfclient
from tests.sandbox.conftest import BASE_TIME

V = "/services/data/v59.0"


@pytest.fixture
def api(sandbox_url, cfg, world):
    """A plain HTTP session holding a token: the raw status, errorCode and message."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sfclient.token(sandbox_url, cfg)['access_token']}"

    class Api:
        def get(self, path, **kw):
            return session.get(sandbox_url + path, timeout=10, **kw)

        def query(self, soql, **kw):
            return self.get(f"{V}/query?{urlencode({'q': soql})}", **kw)

        def patch(self, path, body):
            return session.patch(sandbox_url + path, json=body, timeout=10)

        def post(self, path, body):
            return session.post(sandbox_url + path, json=body, timeout=10)

    return Api()


def error_of(response, status):
    assert response.status_code == status, response.text
    [error] = response.json()
    return error["errorCode"], error["message"]


def settings_change(**changes):
    cfg = runtime.load_settings()
    for name, value in changes.items():
        setattr(cfg, name, value)
    cfg.full_clean()
    cfg.save()


# --- SOQL -----------------------------------------------------------------------------------


def test_long_text_areas_cannot_be_filtered_sorted_or_grouped(api):
    """SOQL: "It can be any field except a long text area field" (WHERE); describe marks a
    Long Text Area filterable, sortable and groupable false; using it is 400 INVALID_FIELD,
    "field 'X' can not be filtered / sorted / grouped in a query call"."""
    described = api.get(f"{V}/sobjects/Account/describe").json()
    tags = next(f for f in described["fields"] if f["name"] == "SW_Tags__c")
    assert (tags["type"], tags["length"], tags["extraTypeInfo"]) == (
        "textarea",
        131072,
        "plaintextarea",
    )
    assert (tags["filterable"], tags["sortable"], tags["groupable"]) == (False, False, False)
    name = next(f for f in described["fields"] if f["name"] == "Name")
    assert (name["filterable"], name["sortable"], name["groupable"]) == (True, True, True)

    for soql, verb in [
        ("SELECT Id FROM Account WHERE SW_Tags__c != null", "filtered"),
        ("SELECT Id FROM Account WHERE Name = 'x' OR SW_Tags__c LIKE '%a%'", "filtered"),
        ("SELECT Id FROM Opportunity ORDER BY SW_Tags__c", "sorted"),
        ("SELECT Id FROM Lead GROUP BY SW_Tags__c", "grouped"),
    ]:
        code, message = error_of(api.query(soql), 400)
        assert code == "INVALID_FIELD", soql
        assert message.endswith(f"field 'SW_Tags__c' can not be {verb} in a query call"), message
        assert "ERROR at Row:1:Column:" in message
    # Selecting it stays allowed.
    assert api.query("SELECT Id, SW_Tags__c FROM Account LIMIT 1").status_code == 200


def test_and_and_or_need_parentheses_when_mixed():
    """SOQL: "Client applications must specify parentheses when nesting operators";
    `a AND b OR c` is 400 MALFORMED_QUERY "unexpected token: 'OR'"."""
    for soql, token in [
        ("SELECT Id FROM Lead WHERE Email = 'a' AND LastName = 'b' OR Company = 'c'", "OR"),
        ("SELECT Id FROM Lead WHERE Email = 'a' OR LastName = 'b' AND Company = 'c'", "AND"),
    ]:
        with pytest.raises(SfApiError) as exc:
            parse(soql)
        assert (exc.value.status, exc.value.code) == (400, "MALFORMED_QUERY")
        assert exc.value.message.endswith(f"unexpected token: '{token}'")
    for soql in [
        "SELECT Id FROM Lead WHERE (Email = 'a' AND LastName = 'b') OR Company = 'c'",
        "SELECT Id FROM Lead WHERE Email = 'a' AND (LastName = 'b' OR Company = 'c')",
        "SELECT Id FROM Lead WHERE Email = 'a' AND LastName = 'b' AND Company = 'c'",
        "SELECT Id FROM Lead WHERE Email = 'a' OR LastName = 'b' OR NOT Company = 'c'",
    ]:
        parse(soql)


def test_a_soql_statement_holds_at_most_100000_characters(api):
    """Salesforce Developer Limits: "Maximum length of SOQL statements: 100,000 characters";
    SOQL reference: "For SOQL statements that exceed this maximum length, the API returns a
    MALFORMED_QUERY exception code", with the message "SOQL statements can not be longer than
    20000 characters" when the limit was 20,000 (quoted in Illuminated Cloud's issue 466).
    Over REST such a statement never reaches the query resource: its URI is over 16,384
    bytes, 414 first."""
    head = "SELECT Id FROM Lead WHERE Email IN ("
    values = ",".join(["'a@b.example'"] * 8000)
    statement = head + values + ")"
    assert len(statement) > MAX_STATEMENT
    with pytest.raises(SfApiError) as exc:
        parse(statement)
    assert (exc.value.status, exc.value.code) == (400, "MALFORMED_QUERY")
    assert exc.value.message == "SOQL statements can not be longer than 100000 characters"
    parse(statement[: MAX_STATEMENT - 20].rpartition(",")[0] + ")")
    assert api.query(statement).status_code == 414


def test_a_request_uri_over_16384_bytes_is_414_and_uri_with_headers_over_it_431(api):
    """Salesforce REST API: "In each REST call, the maximum length for the combined URI and
    headers is 16,384 bytes. A request exceeding this limit returns a 431 Request Header
    Fields Too Large error. If the URI itself exceeds this limit, the request returns a 414
    URI Too Long error" (knowledge article 000386264; neither counted as an API call). The
    bodies are the org web server's, as real orgs send them (quoted in simple-salesforce#271,
    jsforce#1134, forcedotcom/cli#63)."""
    head = f"{V}/query?q="

    def uri(n, last="x"):
        values = ",".join([f"'a{i}@example.com'" for i in range(n)] + [f"'{last}'"])
        return head + quote(f"SELECT Id FROM Lead WHERE Email IN ({values})", safe="")

    def sized(size):
        n = 0
        while len(uri(n + 1)) <= size:
            n += 1
        made = uri(n, "x" * (size - len(uri(n)) + 1))
        assert len(made) == size
        return made

    used = runtime.counter("sf.api_calls")
    # The URI alone at the limit: with any header at all, URI and headers are over it.
    r = api.get(sized(16_384))
    assert (r.status_code, r.text) == (
        431,
        "<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>",
    )
    r = api.get(sized(16_385))
    assert (r.status_code, r.text) == (
        414,
        "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>",
    )
    assert r.headers["Content-Type"].startswith("text/html")
    # Well under: a large header is what tips it over.
    assert api.get(sized(15_000)).status_code == 200
    r = api.get(sized(15_000), headers={"X-Padding": "p" * 1_400})
    assert r.status_code == 431
    assert runtime.counter("sf.api_calls") - used == 1  # the query that answered only


def test_an_eleventh_open_cursor_releases_the_oldest(api):
    """SOAP API queryMore(): "A user can have up to 10 query cursors open at a time. If 10
    QueryLocator cursors are open when a client application ... attempts to open a new one,
    then the oldest of the 10 cursors is released"; its nextRecordsUrl then answers 400
    INVALID_QUERY_LOCATOR "invalid query locator"."""
    seed.seed(seed.Sizes(prospects=3, leads=450, contacts=0, accounts=0, opportunities=0), 1,
              BASE_TIME)  # fmt: skip
    small = {"Sforce-Query-Options": "batchSize=200"}
    pages = [api.query("SELECT Id FROM Lead", headers=small).json() for _ in range(11)]
    assert all(p["done"] is False for p in pages)
    code, message = error_of(api.get(pages[0]["nextRecordsUrl"]), 400)
    assert (code, message) == ("INVALID_QUERY_LOCATOR", "invalid query locator")
    for page in pages[1:]:
        assert api.get(page["nextRecordsUrl"]).status_code == 200
    # A cursor read to its end is no longer open: it does not count against the ten.
    last = api.get(api.get(pages[1]["nextRecordsUrl"]).json()["nextRecordsUrl"]).json()
    assert last["done"] is True
    assert SfQueryCursor.objects.filter(done=False).count() == MAX_OPEN_CURSORS - 1
    newest = api.query("SELECT Id FROM Lead", headers=small).json()
    assert api.get(pages[2]["nextRecordsUrl"]).status_code == 200
    assert api.get(newest["nextRecordsUrl"]).status_code == 200


# --- owners ---------------------------------------------------------------------------------


def test_leads_may_be_owned_by_queues_and_new_records_by_the_running_user(api):
    """Lead.OwnerId refers to Group or User (queues are Groups, Ids 00G...); a record
    created without OwnerId is owned by the running user. A well-formed Id of another object
    in an Id filter matches nothing (owners looked up as Users)."""
    lead = api.get(f"{V}/sobjects/Lead/describe").json()
    owner = next(f for f in lead["fields"] if f["name"] == "OwnerId")
    assert owner["referenceTo"] == ["Group", "User"]
    queue = api.query("SELECT Id, Name, Type FROM Group WHERE Type = 'Queue'").json()["records"]
    assert [q["Name"] for q in queue] == ["Inbound Leads"]
    queue_id = queue[0]["Id"]
    assert queue_id.startswith("00G")
    owned = api.query(f"SELECT Id FROM Lead WHERE OwnerId = '{queue_id}'").json()
    assert owned["totalSize"] == SfLead.objects.filter(owner_id=queue_id).count() > 0
    users = api.query(f"SELECT Id, Email FROM User WHERE Id IN ('{queue_id}')").json()
    assert users["totalSize"] == 0

    created = api.post(f"{V}/sobjects/Lead", {"LastName": "New", "Company": "X"}).json()
    record = api.get(f"{V}/sobjects/Lead/{created['id']}").json()
    me = api.get(f"{V}/").json()["identity"].rsplit("/", 1)[1]
    assert record["OwnerId"] == me
    moved = api.patch(f"{V}/sobjects/Lead/{created['id']}", {"OwnerId": queue_id})
    assert moved.status_code == 204
    refused = api.post(f"{V}/sobjects/Contact", {"LastName": "C", "OwnerId": queue_id})
    code, _ = error_of(refused, 400)
    assert code == "MALFORMED_ID"  # a Contact's owner is a User


# --- field-level security and a bare org ----------------------------------------------------


def test_field_level_security_hides_or_protects_a_field(api):
    """Field-level security: a field the user cannot read is absent from describe and unknown
    to SOQL (INVALID_FIELD "No such column") and to writes; one it cannot edit is described
    createable / updateable false, and a write naming it fails per record with
    INVALID_FIELD_FOR_INSERT_UPDATE."""
    settings_change(
        field_security={"Lead.SW_Temperature__c": "read", "Contact.SW_Fit_Score__c": "none"}
    )
    lead_fields = {f["name"]: f for f in api.get(f"{V}/sobjects/Lead/describe").json()["fields"]}
    temperature = lead_fields["SW_Temperature__c"]
    assert (temperature["createable"], temperature["updateable"]) == (False, False)
    contact = api.get(f"{V}/sobjects/Contact/describe").json()
    assert "SW_Fit_Score__c" not in {f["name"] for f in contact["fields"]}
    assert "SW_Fit_Score__c" in lead_fields  # per object and field

    code, message = error_of(api.query("SELECT Id, SW_Fit_Score__c FROM Contact"), 400)
    assert code == "INVALID_FIELD" and "No such column 'SW_Fit_Score__c'" in message
    assert api.query("SELECT Id, SW_Temperature__c FROM Lead LIMIT 1").status_code == 200

    lead_id = api.query("SELECT Id FROM Lead LIMIT 1").json()["records"][0]["Id"]
    results = api.patch(
        f"{V}/composite/sobjects",
        {"records": [{"attributes": {"type": "Lead"}, "Id": lead_id, "SW_Temperature__c": "Hot"}]},
    ).json()
    [error] = results[0]["errors"]
    assert results[0]["success"] is False
    assert error["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["SW_Temperature__c"]
    assert "Unable to create/update fields: SW_Temperature__c" in error["message"]

    settings_change(field_security={})
    assert api.query("SELECT Id, SW_Fit_Score__c FROM Contact LIMIT 1").status_code == 200


def test_a_bare_org_has_no_saleswings_fields_or_object(api):
    """`seed --bare`: the standard objects without the SalesWings package's custom fields and
    SW_Activity__c; SOQL on them is INVALID_FIELD / INVALID_TYPE, as in an org without the
    package. Deploying them (clearing `missing_metadata`) brings them back."""
    seed.seed(conftest_small(), 7, BASE_TIME, bare=True)
    assert set(runtime.load_settings().missing_metadata) == set(saleswings_metadata())
    names = {s["name"] for s in api.get(f"{V}/sobjects").json()["sobjects"]}
    assert "SW_Activity__c" not in names and {"Lead", "Contact", "Account"} <= names
    for obj in ("Lead", "Contact", "Account", "Opportunity"):
        fields = {f["name"] for f in api.get(f"{V}/sobjects/{obj}/describe").json()["fields"]}
        assert not {f for f in fields if f.endswith("__c")}, obj
    code, _ = error_of(api.query("SELECT Id, SW_Prospect_Id__c FROM Lead"), 400)
    assert code == "INVALID_FIELD"
    code, _ = error_of(api.query("SELECT Id FROM SW_Activity__c"), 400)
    assert code == "INVALID_TYPE"
    code, _ = error_of(api.get(f"{V}/sobjects/SW_Activity__c/describe"), 404)
    assert code == "NOT_FOUND"

    settings_change(missing_metadata=[])
    assert api.query("SELECT Id, SW_Prospect_Id__c FROM Lead LIMIT 1").status_code == 200


def conftest_small():
    from tests.sandbox.conftest import SMALL

    return SMALL


# --- OAuth and resources --------------------------------------------------------------------


def _key_and_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sw-studio")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


def test_the_jwt_bearer_grant_checks_an_rs256_assertion(sandbox_url, cfg, world):
    """OAuth 2.0 JWT bearer flow: grant_type urn:ietf:params:oauth:grant-type:jwt-bearer, an
    RS256 assertion signed by the key of the connected app's certificate, iss = consumer key,
    sub = username, aud = the login server, exp within minutes. Refusals are 400 OAuth
    errors: invalid_grant "invalid assertion" / "audience is invalid", invalid_client_id
    "client identifier invalid"."""
    key, certificate = _key_and_certificate()
    settings_change(sf_jwt_certificate=certificate)
    good = {
        "iss": cfg.sf_client_id,
        "sub": cfg.sf_username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 170,
    }

    def grant(claims, signing_key=key):
        assertion = jwt.encode(claims, signing_key, algorithm="RS256")
        return requests.post(
            f"{sandbox_url}/services/oauth2/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                  "assertion": assertion},
            timeout=10,
        )  # fmt: skip

    answer = grant(good)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    r = requests.get(f"{sandbox_url}{V}/limits", headers={"Authorization": f"Bearer {token}"},
                     timeout=10)  # fmt: skip
    assert r.status_code == 200
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for claims, signing_key, error in [
        (good, other_key, ("invalid_grant", "invalid assertion")),
        (good | {"exp": int(time.time()) - 10}, key, ("invalid_grant", "invalid assertion")),
        (good | {"aud": "https://acme.my.salesforce.com"}, key,
         ("invalid_grant", "audience is invalid")),
        (good | {"iss": "someone-else"}, key, ("invalid_client_id", "client identifier invalid")),
    ]:  # fmt: skip
        r = grant(claims, signing_key)
        assert r.status_code == 400
        assert (r.json()["error"], r.json()["error_description"]) == error


def test_the_project_client_logs_in_by_jwt_against_the_sandbox(sandbox_url, cfg, world, tmp_path,
                                                               settings):  # fmt: skip
    """The product's JWT flow (syncapp/salesforce/auth.py) against the stand-in, not a fake."""
    from syncapp.salesforce import auth
    from syncapp.salesforce import config as sf_config

    key, certificate = _key_and_certificate()
    settings_change(sf_jwt_certificate=certificate)
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )  # fmt: skip
    config = sf_config.ConnectionConfig(
        login_url=sandbox_url,
        flow=sf_config.JWT_BEARER,
        client_id=cfg.sf_client_id,
        username=cfg.sf_username,
        jwt_key_file=str(key_file),
        api_version="59.0",
    )
    token = auth.login(config, requests.Session())
    assert token.instance_url == sandbox_url and token.access_token


def test_a_token_request_may_send_its_form_chunked(sandbox_url, cfg, world):
    """HTTP/1.1 chunked transfer coding (RFC 9112 7.1): the token endpoint reads a form body
    sent without Content-Length."""
    body = urlencode(
        {
            "grant_type": "password",
            "client_id": cfg.sf_client_id,
            "client_secret": cfg.sf_client_secret,
            "username": cfg.sf_username,
            "password": cfg.sf_password,
        }
    ).encode()
    parts = urlsplit(sandbox_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("POST", "/services/oauth2/token")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for start in range(0, len(body), 17):
        chunk = body[start : start + 17]
        conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    assert response.status == 200, response.read()
    response.read()
    conn.close()


def test_the_version_resources_name_identity(api, sandbox_url):
    """GET /services/data/vXX.X/ lists `identity`: the running user's identity URL."""
    resources = api.get(f"{V}/").json()
    assert {"sobjects", "query", "queryAll", "composite", "limits", "identity"} <= set(resources)
    who = api.get(urlsplit(resources["identity"]).path)
    assert who.status_code == 200 and who.json()["user_id"] == resources["identity"][-18:]
