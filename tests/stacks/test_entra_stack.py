"""The Entra stack: app registration, Graph permissions, rotating credentials."""

from __future__ import annotations

import json

import cdktf

from stacks.entra_app import MICROSOFT_GRAPH_CLIENT_ID


def test_app_is_multi_tenant_with_redirect_uris(synthesized):
    entra = synthesized.settings.entra
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.entra,
        "azuread_application",
        {
            "display_name": entra.display_name,
            "sign_in_audience": "AzureADMultipleOrgs",
            "web": {"redirect_uris": entra.redirect_uris},
        },
    )


def test_graph_permissions_are_resolved_by_name(synthesized):
    assert cdktf.Testing.to_have_data_source_with_properties(
        synthesized.entra,
        "azuread_service_principal",
        {"client_id": MICROSOFT_GRAPH_CLIENT_ID},
    )
    (application,) = synthesized.resources("entra", "azuread_application")
    (access,) = application["required_resource_access"]
    ids = [entry["id"] for entry in access["resource_access"]]
    entra = synthesized.settings.entra
    expected = [
        f'app_role_ids["{name}"]}}' for name in entra.application_permissions
    ] + [
        f'oauth2_permission_scope_ids["{name}"]}}'
        for name in entra.delegated_permissions
    ]
    assert len(ids) == len(expected)
    for resolved, ending in zip(ids, expected, strict=True):
        assert resolved.startswith("${data.azuread_service_principal.")
        assert resolved.endswith(ending)
    assert access["resource_app_id"].endswith(".client_id}")


def test_service_principal_for_the_app(synthesized):
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.entra,
        "azuread_service_principal",
        {"client_id": "${azuread_application.app_application_2A977966.client_id}"},
    )


def test_two_passwords_alternate_on_offset_clocks(synthesized):
    entra = synthesized.settings.entra
    clocks = synthesized.resources("entra", "time_rotating")
    assert [clock["rotation_days"] for clock in clocks] == [
        2 * entra.secret_rotation_days
    ] * 2
    offset = [clock for clock in clocks if "rfc3339" in clock]
    assert len(offset) == 1
    assert offset[0]["rfc3339"].endswith(f'"{24 * entra.secret_rotation_days}h")}}')
    assert offset[0]["lifecycle"] == {"ignore_changes": ["rfc3339"]}

    passwords = synthesized.resources("entra", "azuread_application_password")
    assert len(passwords) == 2
    for password in passwords:
        # The resource id of the application, not its client id.
        assert password["application_id"].endswith(".id}")
        assert password["rotate_when_changed"]["rotation"].startswith(
            "${time_rotating."
        )
        assert password["end_date"].endswith(f'"{24 * entra.secret_overlap_days}h")}}')


def test_federated_credential_only_when_configured(synthesized):
    federated = synthesized.settings.entra.federated_ci
    found = synthesized.resources(
        "entra", "azuread_application_federated_identity_credential"
    )
    assert federated is not None
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.entra,
        "azuread_application_federated_identity_credential",
        {
            "display_name": federated.name,
            "issuer": federated.issuer,
            "subject": federated.subject,
            "audiences": federated.audiences,
        },
    )
    assert len(found) == 1
    assert synthesized.resources("entra", "azuread_application_certificate") == []


def test_outputs_and_home_tenant(synthesized):
    document = json.loads(synthesized.entra)
    outputs = document["output"]
    for name in (
        "client_id",
        "tenant_id",
        "application_object_id",
        "service_principal_object_id",
        "client_secret",
    ):
        assert name in outputs
    assert outputs["client_secret"]["sensitive"] is True
    assert outputs["tenant_id"]["value"].startswith("${data.azuread_client_config.")
    assert "azuread_client_config" in document["data"]
