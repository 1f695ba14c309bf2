"""Errors of the camera import: a whole file that cannot be read, or one item that cannot be taken."""

from __future__ import annotations


class ImportFormatError(ValueError):
    """The file as a whole cannot be parsed (not JSON, not CSV, wrong top-level shape, bad header)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ItemError(ValueError):
    """One feature, element or row cannot be imported; the import goes on without it."""

    def __init__(self, reason: str, camera_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.camera_id = camera_id
