"""The OpenAPI schema is valid, and real responses match it."""

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from syncapp.api import status
from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models.statuses import Trigger

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/Sync/v1/GetSyncStatus"),
    ("post", "/Sync/v1/RestartSync"),
    ("post", "/Sync/v1/TurnSyncOn"),
    ("post", "/Sync/v1/TurnSyncOff"),
}


@pytest.fixture
def spec(anon_client):
    response = anon_client.get("/Sync/v1/schema?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3_and_lists_every_endpoint(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")
    found = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert found == OPERATIONS
    restart = spec["paths"]["/Sync/v1/RestartSync"]["post"]
    assert [p["name"] for p in restart["parameters"]] == ["force"]
    assert {"200", "400", "401", "403", "412", "429"} <= set(restart["responses"])
    assert set(spec["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_the_schema_is_also_served_as_yaml(anon_client):
    response = anon_client.get("/Sync/v1/schema")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "SW Studio Sync API"


def _check(openapi, spec, response):
    """Validate one real response: by its operation when documented, else as an Error."""
    request = response.wsgi_request
    key = (request.method.lower(), request.path)
    if key in OPERATIONS:
        documented = spec["paths"][request.path][key[0]]["responses"]
        assert str(response.status_code) in documented, (key, response.status_code)
        openapi.validate_response(DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(response))
    else:
        schema = {"$ref": "#/components/schemas/Error", "components": spec["components"]}
        OAS30Validator(schema).validate(response.json())


def test_real_responses_match_the_schema(
    spec, admin_user, admin_client, viewer_client, anon_client, job_queue
):
    openapi = OpenAPI.from_dict(spec)
    responses = [
        viewer_client.get("/Sync/v1/GetSyncStatus"),  # all empty
        admin_client.post("/Sync/v1/TurnSyncOn"),
    ]
    start_cycle(Trigger.WATCHER)
    job_queue.run_next()
    responses += [
        viewer_client.get("/Sync/v1/GetSyncStatus"),  # a cycle Processing, a job active
        admin_client.post("/Sync/v1/RestartSync"),  # 412 with the status inside
        admin_client.post("/Sync/v1/RestartSync?force=yes"),  # 400
        admin_client.post("/Sync/v1/RestartSync?force=TRUE"),
        admin_client.post("/Sync/v1/TurnSyncOff", "{", content_type="application/json"),
        admin_client.post("/Sync/v1/TurnSyncOff", "a=1", content_type="text/plain"),  # 415
        admin_client.post(
            "/Sync/v1/TurnSyncOff", "{}" + " " * 2000, content_type="application/json"
        ),
        viewer_client.post("/Sync/v1/TurnSyncOff"),  # 403
        anon_client.get("/Sync/v1/GetSyncStatus"),  # 401
        admin_client.get("/Sync/v1/TurnSyncOff"),  # 405
        admin_client.get("/Sync/v1/Nothing"),  # 404
    ]
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()  # a finished cycle and a pending Runner
    responses += [
        viewer_client.get("/Sync/v1/GetSyncStatus"),
        admin_client.post("/Sync/v1/TurnSyncOff"),
    ]
    statuses = [r.status_code for r in responses]
    assert set(statuses) >= {200, 400, 401, 403, 404, 405, 412, 413, 415}, statuses
    for response in responses:
        _check(openapi, spec, response)


def test_throttled_responses_match_the_schema(spec, settings, admin_client):
    settings.SWSTUDIO_API_POST_RATE = "1/min"
    openapi = OpenAPI.from_dict(spec)
    admin_client.post("/Sync/v1/TurnSyncOn")
    response = admin_client.post("/Sync/v1/TurnSyncOn")
    assert response.status_code == 429
    _check(openapi, spec, response)


def test_an_undocumented_key_would_be_caught(spec, viewer_client, monkeypatch):
    """The check above can fail: a key the schema does not know breaks validation."""
    original = status.sync_status
    monkeypatch.setattr(status, "sync_status", lambda **kw: {**original(**kw), "surprise": 1})
    response = viewer_client.get("/Sync/v1/GetSyncStatus")
    with pytest.raises(Exception, match="surprise|additional"):
        _check(OpenAPI.from_dict(spec), spec, response)
