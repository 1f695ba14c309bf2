"""Prints the README's configuration table from the settings object (so the two never drift apart)."""

from __future__ import annotations

from dispatch.settings import Settings


def default(name: str, value: object) -> str:
    """How a default reads in the table; secrets are never shown."""
    if hasattr(value, "get_secret_value"):
        return "generated" if name.endswith(("secret", "secrets")) else "none"
    if name == "data_dir":
        return ".data/ in the project"
    if name == "database_url":
        return "the project-local cluster"
    return "none" if value in (None, "") else str(value)


if __name__ == "__main__":
    for name, field in Settings.model_fields.items():
        print(f"| `CALLSIGHT_{name.upper()}` | {field.description} | `{default(name, field.default)}` |")
