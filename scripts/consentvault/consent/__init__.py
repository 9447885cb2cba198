"""Consent: from a customer admin's consent to an encrypted tenant record.

urls.py        the URL to send the admin to, with its server-side state
state.py       pending flows in Vault: sealed, single use, expiring
callback.py    the redirect's parameters, validated before anything else
redemption.py  code or admin consent -> verified grant -> tenant record
server.py      the callback server (`consent serve`)
commands.py    the `consent` click group
"""
