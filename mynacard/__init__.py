"""The My Number Card in pure Python: APDUs, TLV, records, sessions, reservation evidence.

Imports no Django, pyscard or websockets (docs/internal-api.md, "mynacard").
"""
