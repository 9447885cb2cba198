"""consentvault: Microsoft 365 consent kept in Vault, handed out as dynamic secrets."""

__version__ = "0.1.0"
