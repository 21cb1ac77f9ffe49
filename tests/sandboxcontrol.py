"""The sandbox's control endpoints (/sandbox/control/...) over HTTP, as the sandbox's control
user: every call carries its token (the endpoints are staff only)."""

import requests

from sandbox.control_views import control_token


def headers():
    return {"Authorization": f"Token {control_token()}"}


def _call(method, url, *, headers=None, **kwargs):
    auth = {"Authorization": f"Token {control_token()}"}
    return requests.request(method, url, headers={**(headers or {}), **auth}, **kwargs)


def get(url, **kwargs):
    return _call("GET", url, **kwargs)


def put(url, **kwargs):
    return _call("PUT", url, **kwargs)


def post(url, **kwargs):
    return _call("POST", url, **kwargs)


def delete(url, **kwargs):
    return _call("DELETE", url, **kwargs)
