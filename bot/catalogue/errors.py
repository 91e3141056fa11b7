"""Errors raised while reading a catalogue. Messages are German: operators read them."""

from __future__ import annotations


class CatalogueError(Exception):
    """A catalogue could not be read. ``str(err)`` is a complete German message."""

    code = "catalogue-invalid"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class CatalogueNotFound(CatalogueError):
    code = "catalogue-not-found"
