"""The audit log: one hash-chained, append-only row for every disclosure.

Kept empty on purpose: `callsight audit` imports dispatch.audit.cli, and the CLI must start fast, so the
writer (asyncpg) is imported from dispatch.audit.writer where it is used.
"""
