"""Mint, revoke and audit short-lived credentials for one tenant at a time.

`mint vault-token` runs in CI jobs many times a day, so its path imports
neither hvac, requests, pydantic nor msal: it reads the few names it needs
with `light_settings` and talks to Vault with `vaulthttp`. The slower commands
(`graph-token`, `revoke --tenant`, `audit verify`) are free to use the rest of
the project.
"""
