"""Reader for buergerbot's own catalogue format (``catalogue.schema.json``)."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from bot.catalogue.errors import CatalogueError
from bot.catalogue.model import (
    Address,
    Catalogue,
    GeoPoint,
    LifeSituation,
    Office,
    Service,
    TimeRange,
    Weekday,
)

FORMAT = "buergerbot-catalogue/1"
_DAY_KEYS = {"mon": Weekday.MON, "tue": Weekday.TUE, "wed": Weekday.WED, "thu": Weekday.THU,
             "fri": Weekday.FRI, "sat": Weekday.SAT, "sun": Weekday.SUN}


@cache
def schema() -> dict[str, Any]:
    text = resources.files("bot.catalogue").joinpath("catalogue.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate(document: Any, *, path: str | None = None) -> None:
    """Raise :class:`CatalogueError` listing (up to ten) schema violations by JSON path."""
    validator = jsonschema.Draft7Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    lines = [f"  - {_where(e.absolute_path)}: {_german(e)}" for e in errors[:10]]
    more = f"\n  ... und {len(errors) - 10} weitere Fehler" if len(errors) > 10 else ""
    raise CatalogueError(
        "Der Katalog entspricht nicht dem Format buergerbot-catalogue/1:\n" + "\n".join(lines) + more,
        path=path,
    )


def _where(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _german(error: jsonschema.ValidationError) -> str:
    v = error.validator
    value = error.validator_value
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"Pflichtfeld '{missing}' fehlt"
    if v == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        instance = error.instance if isinstance(error.instance, dict) else {}
        extra = [k for k in instance if k not in known]
        return "unbekanntes Feld " + ", ".join(repr(k) for k in extra)
    if v == "type":
        return f"falscher Typ, erwartet {value}"
    if v in ("pattern", "format", "enum"):
        return f"ungültiger Wert {error.instance!r}"
    if v == "minLength":
        return "darf nicht leer sein"
    if v == "minItems":
        if not error.instance:
            return "darf nicht leer sein"
        return f"zu wenige Einträge (mindestens {value})"
    if v == "maxItems":
        return f"zu viele Einträge (höchstens {value})"
    if v == "minimum":
        return f"Wert {error.instance!r} ist kleiner als {value}"
    if v == "maximum":
        return f"Wert {error.instance!r} ist größer als {value}"
    if v == "const":
        return f"muss {value!r} sein"
    return f"ungültiger Wert {error.instance!r} (Regel '{v}')"


def load_native(path: Path) -> Catalogue:
    """Read and validate a catalogue file of our own format."""
    raw = path.read_bytes()
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CatalogueError(f"keine gültige JSON-Datei ({err})", path=str(path)) from err
    validate(document, path=str(path))
    catalogue = from_document(document, path=str(path))
    return catalogue


def from_document(document: dict[str, Any], *, path: str | None = None) -> Catalogue:
    """Build a :class:`Catalogue` from an already schema-valid document; check references."""
    offices = {o["id"]: _office(o) for o in document["offices"]}
    services: dict[str, Service] = {}
    problems: list[str] = []
    if len(offices) != len(document["offices"]):
        problems.append("doppelte Amts-IDs in 'offices'")
    for raw in document["services"]:
        if raw["id"] in services:
            problems.append(f"doppelte Leistungs-ID '{raw['id']}'")
        unknown = [o for o in raw["offices"] if o not in offices]
        if unknown:
            problems.append(f"Leistung '{raw['id']}' verweist auf unbekannte Ämter {unknown}")
        services[raw["id"]] = _service(raw)
    situations: dict[str, LifeSituation] = {}
    for raw in document.get("life_situations", []):
        unknown = [s for s in raw["services"] if s not in services]
        if unknown:
            problems.append(f"Lebenslage '{raw['id']}' verweist auf unbekannte Leistungen {unknown}")
        situations[raw["id"]] = LifeSituation(
            id=raw["id"], name=raw["name"], description=raw["description"],
            service_ids=tuple(raw["services"]), synonyms=tuple(raw.get("synonyms", ())),
        )
    for office in offices.values():
        for day, ranges in (office.opening_hours or {}).items():
            if any(r.start >= r.end for r in ranges):
                problems.append(f"Amt '{office.id}': Öffnungszeit am {day.german} endet vor dem Beginn")
    if problems:
        raise CatalogueError("Der Katalog ist widersprüchlich:\n" +
                             "\n".join(f"  - {p}" for p in problems[:10]), path=path)
    city = document["city"]
    return Catalogue(
        city=city["name"], services=services, offices=offices, life_situations=situations,
        website=city.get("website"), phone=city.get("phone"), attribution=city.get("attribution"),
    )


def _time(text: str) -> dt.time:
    return dt.time.max if text == "24:00" else dt.time.fromisoformat(text)


def _office(raw: dict[str, Any]) -> Office:
    hours = None
    if "opening_hours" in raw:
        hours = {
            _DAY_KEYS[key]: tuple(TimeRange(_time(a), _time(b)) for a, b in intervals)
            for key, intervals in raw["opening_hours"].items() if intervals
        }
    address = raw["address"]
    geo = raw.get("geo")
    return Office(
        id=raw["id"], name=raw["name"],
        address=Address(address["street"], address["postal_code"], address["city"]),
        district=raw.get("district"), postal_codes=tuple(raw.get("postal_codes", ())),
        geo=GeoPoint(geo["lat"], geo["lon"]) if geo else None,
        phone=raw.get("phone"), email=raw.get("email"), url=raw.get("url"),
        booking_url=raw.get("booking_url"), opening_hours=hours, note=raw.get("note"),
    )


def _service(raw: dict[str, Any]) -> Service:
    return Service(
        id=raw["id"], name=raw["name"], description=raw["description"],
        synonyms=tuple(raw.get("synonyms", ())), prerequisites=tuple(raw.get("prerequisites", ())),
        documents=tuple(raw.get("documents", ())), fees=raw.get("fees"),
        processing_time=raw.get("processing_time"), legal_basis=raw.get("legal_basis"),
        online_url=raw.get("online_url"), url=raw.get("url"),
        appointment_url=raw.get("appointment_url"), office_ids=tuple(raw["offices"]),
        leika=raw.get("leika"), hints=tuple(raw.get("hints", ())),
    )
