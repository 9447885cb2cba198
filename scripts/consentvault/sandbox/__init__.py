"""The sandbox: OpenBao and the Entra stand-in on loopback, provisioned offline.

Nothing in here is imported by the everyday commands (`mint`, `consent`): it
serves `consentvault sandbox ...`, the demo and the tests.
"""
