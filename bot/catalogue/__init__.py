"""City service catalogues: one model, several importers.

``load_catalogue(path)`` accepts
- a file in buergerbot's own format (``*.json`` with ``"format": "buergerbot-catalogue/1"``),
- a directory holding ``catalogue.json`` (own format), or
- a directory holding a DLDB export (``services_de.json`` + ``locations_de.json``), the format in
  which Berlin's and Munich's service directories are published.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from importlib import resources
from pathlib import Path

from bot.catalogue.errors import CatalogueError, CatalogueNotFound
from bot.catalogue.model import Catalogue

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueNotFound",
    "catalogue_sources",
    "default_catalogue_path",
    "load_catalogue",
]

IMPORTER_VERSION = "1"


def default_catalogue_path() -> Path:
    """The bundled sample city, Musterstadt."""
    return Path(str(resources.files("bot.sample_city").joinpath("musterstadt.json")))


def catalogue_sources(path: Path) -> tuple[str, list[Path]]:
    """Which importer reads ``path`` and which files it reads (for loading and fingerprints)."""
    if not path.exists():
        raise CatalogueNotFound(f"Katalog nicht gefunden: {path}")
    if path.is_dir():
        if (path / "services_de.json").is_file():
            locations = path / "locations_de.json"
            if not locations.is_file():
                raise CatalogueError("DLDB-Export ohne locations_de.json", path=str(path))
            return "dldb", [path / "services_de.json", locations]
        if (path / "catalogue.json").is_file():
            return "native", [path / "catalogue.json"]
        raise CatalogueError(
            "Verzeichnis enthält weder catalogue.json noch einen DLDB-Export "
            "(services_de.json + locations_de.json)", path=str(path))
    if path.name == "services_de.json":
        return catalogue_sources(path.parent)
    return "native", [path]


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Load and validate a catalogue; raise :class:`CatalogueError` with a German message."""
    path = Path(path) if path is not None else default_catalogue_path()
    kind, files = catalogue_sources(path)
    digest = hashlib.sha256(f"{kind}:{IMPORTER_VERSION}".encode())
    for file in files:
        digest.update(file.read_bytes())
    if kind == "dldb":
        from bot.catalogue.dldb import load_dldb

        catalogue = load_dldb(files[0], files[1])
    else:
        from bot.catalogue.native import load_native

        catalogue = load_native(files[0])
    return replace(catalogue, fingerprint=digest.hexdigest()[:16])
