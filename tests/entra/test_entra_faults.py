"""Faults injected through the control interface reach msal in Entra's shape."""

from __future__ import annotations

import msal
import pytest
import requests

from consentvault.sandbox.entra import StandinError, running_standin

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def test_throttling_is_429_with_retry_after(consented, make_msal, standin):
    standin.control.fail("token", 429, retry_after=7)
    reply = requests.post(
        f"{standin.base_url}/{consented}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials"},
        verify=str(standin.ca_file),
        timeout=10,
    )

    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "7"
    assert reply.json()["error"] == "temporarily_unavailable"
    assert reply.json()["error_codes"] == [90055]


def test_throttled_msal_call_then_recovery(consented, make_msal, standin):
    standin.control.fail("token", 429, retry_after=1)

    throttled = make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)
    recovered = make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)

    assert throttled["error"] == "temporarily_unavailable"
    assert throttled["error_codes"] == [90055]
    assert throttled["correlation_id"]
    assert "access_token" in recovered


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [(500, "server_error", 50000), (503, "temporarily_unavailable", 90033)],
    ids=["500", "503"],
)
def test_next_n_calls_fail_with_5xx(consented, make_msal, standin, status, error, code):
    """msal raises on a 5xx token reply instead of returning its body."""
    standin.control.fail("token", status, count=2)
    raw = requests.post(
        f"{standin.base_url}/{consented}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials"},
        verify=str(standin.ca_file),
        timeout=10,
    )

    with pytest.raises(msal.exceptions.MsalServiceError, match=str(status)):
        make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)
    recovered = make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)

    assert raw.status_code == status
    assert raw.json()["error"] == error
    assert raw.json()["error_codes"] == [code]
    assert "access_token" in recovered
    assert standin.control.grant_count("client_credentials") == 3


def test_graph_fault_uses_graphs_error_shape(consented, make_msal, standin):
    token = make_msal(consented).acquire_token_for_client(GRAPH_DEFAULT)
    standin.control.fail("graph", 429, retry_after=3)

    reply = requests.get(
        f"{standin.graph_url}/v1.0/users",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        verify=str(standin.ca_file),
        timeout=10,
    )

    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "3"
    assert reply.json()["error"]["code"] == "TooManyRequests"


def test_discovery_outage_fails_the_msal_constructor(make_msal, standin, tenants):
    standin.control.fail("discovery", 503)

    with pytest.raises(msal.exceptions.MsalServiceError, match="503"):
        make_msal(tenants[0])


def test_reset_forgets_pending_faults(consented, make_msal, standin):
    standin.control.fail("token", 500, count=5)
    standin.control.reset()

    assert "access_token" in make_msal(consented).acquire_token_for_client(
        GRAPH_DEFAULT
    )
    assert standin.control.grant_count("client_credentials") == 1


def test_control_refuses_a_wrong_token(standin):
    reply = requests.get(
        f"{standin.base_url}/_control/counts",
        headers={"Authorization": "Bearer not-the-token"},
        verify=str(standin.ca_file),
        timeout=10,
    )

    assert reply.status_code == 401


def test_control_rejects_bad_fault_requests(standin):
    with pytest.raises(StandinError, match="HTTP 400"):
        standin.control.fail("token", 404)
    with pytest.raises(StandinError, match="HTTP 400"):
        standin.control.fail("nowhere", 500)


def test_control_is_off_without_a_control_token(tmp_path):
    with running_standin(tmp_path) as bare:
        reply = requests.get(
            f"{bare.base_url}/_control/tenants",
            headers={"Authorization": "Bearer anything"},
            verify=str(bare.ca_file),
            timeout=10,
        )

    assert bare.control is None
    assert reply.status_code == 404
