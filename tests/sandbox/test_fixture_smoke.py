"""The shared `sandbox` fixture gives a provisioned, reachable sandbox."""


def test_fixture_provisions_openbao(sandbox):
    client = sandbox.vault_client()
    assert client.sys.read_health_status(method="GET")["sealed"] is False
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert mounts[f"{sandbox.settings.vault.kv_mount}/"]["type"] == "kv"
