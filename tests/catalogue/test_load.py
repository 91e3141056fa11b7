"""``load_catalogue``: which importer reads which path, and the content fingerprint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue import CatalogueError, CatalogueNotFound, catalogue_sources, load_catalogue

MUNICH = (Path(__file__).resolve().parents[2] / ".." / "shared" / "catalogues"
          / "muenchen-2026-06-08")


def _native(city: str = "Musterstadt") -> dict[str, Any]:
    return {
        "format": "buergerbot-catalogue/1",
        "city": {"name": city},
        "services": [{"id": "ausweis", "name": "Personalausweis",
                      "description": "Im Bürgerbüro.", "offices": ["bb"]}],
        "offices": [{"id": "bb", "name": "Bürgerbüro",
                     "address": {"street": "Hauptstraße 1", "postal_code": "12345",
                                 "city": city}}],
    }


def _write_dldb(directory: Path, *, name: str = "Reisepass") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    services = [{"id": "1", "name": name, "description": "<p>Im Bürgerbüro.</p>",
                 "meta": {"keywords": "Pass"}, "locations": [{"location": "10"}]}]
    locations = [{"id": "10", "name": "Bürgerbüro", "organization": "Landeshauptstadt Beispiel",
                  "address": {"street": "Markt", "house_number": "1", "postal_code": "12345",
                              "city": "Beispiel"}}]
    (directory / "services_de.json").write_text(json.dumps({"data": services}), "utf-8")
    (directory / "locations_de.json").write_text(json.dumps({"data": locations}), "utf-8")
    return directory


def test_native_file(tmp_path: Path) -> None:
    path = tmp_path / "stadt.json"
    path.write_text(json.dumps(_native()), "utf-8")
    assert catalogue_sources(path) == ("native", [path])
    catalogue = load_catalogue(path)
    assert catalogue.city == "Musterstadt" and "ausweis" in catalogue.services
    assert len(catalogue.fingerprint) == 16


def test_directory_with_catalogue_json(tmp_path: Path) -> None:
    (tmp_path / "catalogue.json").write_text(json.dumps(_native("Nordstadt")), "utf-8")
    assert catalogue_sources(tmp_path) == ("native", [tmp_path / "catalogue.json"])
    assert load_catalogue(str(tmp_path)).city == "Nordstadt"


def test_dldb_directory_and_services_file(tmp_path: Path) -> None:
    directory = _write_dldb(tmp_path / "export")
    kind, files = catalogue_sources(directory)
    assert kind == "dldb" and [f.name for f in files] == ["services_de.json", "locations_de.json"]
    by_directory = load_catalogue(directory)
    by_file = load_catalogue(directory / "services_de.json")
    assert by_directory.city == by_file.city == "Beispiel"
    assert by_directory.attribution == "Datenquelle: Landeshauptstadt Beispiel"
    assert by_directory.fingerprint == by_file.fingerprint


def test_dldb_takes_precedence_over_catalogue_json(tmp_path: Path) -> None:
    _write_dldb(tmp_path)
    (tmp_path / "catalogue.json").write_text(json.dumps(_native()), "utf-8")
    assert catalogue_sources(tmp_path)[0] == "dldb"


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(CatalogueNotFound, match="Katalog nicht gefunden"):
        load_catalogue(tmp_path / "gibt-es-nicht.json")


def test_directory_with_neither(tmp_path: Path) -> None:
    (tmp_path / "notizen.txt").write_text("nichts", "utf-8")
    with pytest.raises(CatalogueError, match="weder catalogue.json noch einen DLDB-Export") as info:
        load_catalogue(tmp_path)
    assert not isinstance(info.value, CatalogueNotFound)


def test_dldb_without_locations(tmp_path: Path) -> None:
    _write_dldb(tmp_path)
    (tmp_path / "locations_de.json").unlink()
    with pytest.raises(CatalogueError, match="ohne locations_de.json"):
        load_catalogue(tmp_path)


def test_fingerprint_follows_the_content(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(_native()), "utf-8")
    first = load_catalogue(path).fingerprint
    assert load_catalogue(path).fingerprint == first
    path.write_text(json.dumps(_native("Südstadt")), "utf-8")
    assert load_catalogue(path).fingerprint != first


def test_dldb_fingerprint_covers_both_files(tmp_path: Path) -> None:
    directory = _write_dldb(tmp_path)
    first = load_catalogue(directory).fingerprint
    locations = json.loads((directory / "locations_de.json").read_text("utf-8"))
    locations["data"][0]["name"] = "Bürgerbüro Süd"
    (directory / "locations_de.json").write_text(json.dumps(locations), "utf-8")
    second = load_catalogue(directory).fingerprint
    assert second != first
    _write_dldb(directory, name="Reisepass (neu)")
    assert load_catalogue(directory).fingerprint not in (first, second)


def test_munich_through_load_catalogue() -> None:
    if not (MUNICH / "services_de.json").is_file():
        pytest.skip(f"Munich DLDB export not found at {MUNICH} (../shared/ is not checked out)")
    catalogue = load_catalogue(MUNICH)
    assert catalogue.city == "München"
    assert catalogue.services["1063453"].name == "Reisepass"
    assert len(catalogue.fingerprint) == 16
