"""Importer for DLDB exports (``services_de.json`` + ``locations_de.json``).

DLDB ("Dienstleistungsdatenbank") is the JSON format in which Berlin's and Munich's service
directories are published. Both files hold ``{"data": [...]}``. Munich writes everything a citizen
needs into HTML prose (``description``, ``fees``); Berlin also has structured lists
(``requirements``, ``prerequisites``, ``legal``, ``process_time``, ``onlineprocessing``). Both
are read; structured fields win over what is found in the prose.

What is taken from where
------------------------
- ``documents``: Berlin ``requirements``; else list items of description sections whose heading
  names documents ("Erforderliche Unterlagen", "Was muss ich mitbringen?", "Nachweise", ...);
  else the description's sentences that ask the citizen to bring something ("Bitte bringen Sie
  die Benachrichtigung mit."), except those that only make sense after the sentence before
  ("Diese Vordrucke bringen Sie mit."). Munich names documents only in such sentences.
- ``prerequisites``: Berlin ``prerequisites``; else sections headed "Voraussetzungen",
  "Personenkreis", "Wer kann ... beantragen?" (their items, or their text).
- ``fees``: the ``fees`` HTML as plain text; else a "Gebühren"/"Kosten" section.
- ``processing_time``: Berlin ``process_time``; else a "Bearbeitungsdauer"/"Dauer" section; else
  description sentences that give a span of days/weeks/months for processing, prefixed with
  their section heading so that "Express-Bestellung: Die Bearbeitungszeit ... drei bis sechs
  Arbeitstage" is not mistaken for the normal case.
- ``legal_basis``: Berlin ``legal``; else a "Rechtsgrundlage" section.
- ``online_url``: Berlin ``onlineprocessing.link``; else the first link (in the description, then
  in ``links``/``forms``) whose text says it is an online application ("online", "Online-Antrag",
  "Antragstellung", ...) and that is neither a PDF, a booking page nor a status or info page.
- ``description``: the description without the sections consumed above, as plain text.
- ``url``/``appointment_url``: ``meta.url`` and ``appointment.link`` with ``{serviceId}`` filled in.
- ``office_ids``: ``locations[].location`` plus the locations whose ``services[]`` name the
  service, restricted to offices that are kept.
- ``leika``: the first 14-digit key (Munich sometimes lists several, comma-separated).

Malformed input: a file that is missing, empty, not JSON or without a ``data`` list raises
:class:`CatalogueError` (German message naming the file). Entries that are not objects, or lack
an id or a name, are skipped and counted in one ``catalogue.dldb.invalid_entries`` warning; fields
of the wrong type are treated as absent. An export without a single usable service is an error.

Which entries are skipped (logged as ``catalogue.dldb.skipped`` with counts per reason)
---------------------------------------------------------------------------------------
1. ``internal-name``: the name matches :data:`INTERNAL_NAME_PATTERNS` - booking-system plumbing
   (test entries, "Shortlane 15 min", "SB ..." counters, walk-in numbers, "... Sonstiges"
   catch-alls, "Dokumentendruck") and the fire brigade's staff services (uniform fittings,
   medical device training).
2. ``internal-note``: the description is a note for staff (:data:`INTERNAL_NOTE_PATTERNS`,
   e.g. "Das ist eine Fake Dienstleistung um den E-Kiosk ...").
3. ``empty``: no description text, no keywords, no fees and no office: nothing to tell a
   citizen. An entry without text that an office offers is kept: its name ("Baumschutz",
   "Duldung", "Urkundenabholung") says what it is, and the responsible office is an answer.

The ``public`` flag is *not* a reason to skip. In the Munich export it is ``false`` for 125 of 287
entries, among them "Wohnsitz abmelden", "Sterbeurkunde" and every residence permit; in the
booking system it means "not offered for online booking" (``public = !ZMS_INTERN``). So a
non-public service keeps its text, but gets no ``appointment_url``, and no ``url`` when that would
be the same booking page. Editorial notes inside otherwise public text ("Diese DL existiert im
DL-Finder nicht ...") are cut out of the description.

Offices: locations no kept service refers to, and locations with an internal name
("Teststandort"), are left out. ``booking_url`` is the location's ``meta.url`` when it is a booking
page (Munich), else the appointment link shared by all its services, if there is one; a
``public: false`` location keeps its address but gets no ``booking_url``. DLDB carries no opening
hours and no districts: both stay ``None``.

Catalogue: ``city`` is the most common city of the offices' addresses; ``attribution`` is
"Datenquelle: <organization>" of the most common location ``organization`` (Munich:
"Datenquelle: Landeshauptstadt München"); ``website`` the most common authority ``webinfo``.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalogue.errors import CatalogueError
from bot.catalogue.model import Address, Catalogue, GeoPoint, Office, Service
from bot.catalogue.text import (
    Link,
    Section,
    html_links,
    html_sections,
    html_to_text,
    normalise_space,
)

__all__ = ["INTERNAL_NAME_PATTERNS", "INTERNAL_NOTE_PATTERNS", "load_dldb", "skip_reason"]

log = logging.getLogger(__name__)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


INTERNAL_NAME_PATTERNS: tuple[re.Pattern[str], ...] = tuple(_rx(p) for p in (
    r"^test",                      # Testleistung, Teststandort
    r"^shortlane\b",               # Shortlane 15/30/45 min
    r"^sb\s",                      # SB Personalausweis, SB Sonstiges, ...
    r"^spontan",                   # Spontanvorsprache ..., Spontannummer ...
    r"^wartenummer\b",
    r"\bsonstiges$",               # Waffenbehörde Sonstiges, SB Sonstiges
    r"^dokumentendruck$",
    # Fire brigade staff services (uniforms, training):
    r"schulterklappen", r"helmbeklebung", r"^vermessungstermin\b",
    r"^größenänderung für einzelartikel$", r"^reparatur und verschleiß$",
    r"medizinproduktunterweisung",
))
INTERNAL_NOTE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(_rx(p) for p in (
    r"\bfake[- ]dienstleistung\b",
))
# Sentences written for editors, not citizens; removed from descriptions.
_EDITORIAL_SENTENCE = re.compile(r"[^.!?\n]*(?:DL-Finder|Entwurfs-DL)[^.!?\n]*[.!?]?[ ]*")

_DOCUMENT_HEADING = _rx(
    r"unterlagen|\bdokumente\b|nachweise|mitbringen|mitzubringen|vorzulegen|vorlegen")
_PREREQUISITE_HEADING = _rx(
    r"voraussetzung|personenkreis|wer kann\b.*\bbeantragen|anspruchsberechtigt")
_FEES_HEADING = _rx(r"\b(gebühren?|kosten|entgelte?)\b")
_DURATION_HEADING = _rx(r"bearbeitungs(dauer|zeit)|\bdauer\b|wartezeit|lieferzeit")
_LEGAL_HEADING = _rx(r"rechtsgrundlage|(gesetzliche|rechtliche) grundlage")

_BRING_SENTENCE = _rx(
    r"\bbringen Sie\b[^.!?]*\bmit\b|\bmitbringen\b|\bmitzubringen\b")
_TIME_SPAN = _rx(
    r"\b(tag|tage|tagen|woche|wochen|monat|monate|monaten|arbeitstag\w*|werktag\w*)\b")
_PROCESSING_WORD = _rx(
    r"bearbeitungs(zeit|dauer)|\bbearbeite\w*|\bdauer[nt]\b|in anspruch")
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")
# A sentence opening like this refers back to the one before and means nothing on its own.
_ANAPHORIC_START = _rx(r"^(diese[rsnm]?|dazu|dafür|hierzu|hierfür|damit)\b")

_ONLINE_TEXT = _rx(
    r"\bonline\b|online-|antragstellung|antrag starten|anmeldung starten")
_NOT_ONLINE_APPLICATION = _rx(
    r"termin|auskunft|bearbeitungsstand|online-ausweis|ausweisfunktion|vorteile|information|flyer"
    r"|kontaktformular")
_NOT_APPLICATION_URL = _rx(r"\.pdf$|terminvereinbarung|/termin\b|/faqs?/")
_LEIKA = re.compile(r"\b\d{14}\b")
_PLACEHOLDER = re.compile(r"\{[A-Za-z]+\}")

MAX_PROCESSING_SENTENCES = 3


# --- entry point --------------------------------------------------------------------------


def load_dldb(services_path: Path, locations_path: Path) -> Catalogue:
    """Read a DLDB export; raise :class:`CatalogueError` with a German message if unusable."""
    raw_services = _read_data(services_path, what="Leistungen")
    raw_locations = _read_data(locations_path, what="Standorte")

    locations = _valid_entries(raw_locations, locations_path, what="Standort")
    services_by_id = _valid_entries(raw_services, services_path, what="Leistung")

    skipped: Counter[str] = Counter()
    kept: dict[str, dict[str, Any]] = {}
    for service_id, entry in services_by_id.items():
        reason = skip_reason(entry)
        if reason:
            skipped[reason] += 1
        else:
            kept[service_id] = entry
    if skipped:
        log.info("catalogue.dldb.skipped total=%d reasons=%s", sum(skipped.values()),
                 dict(sorted(skipped.items())))
    if not kept:
        raise CatalogueError("Der DLDB-Export enthält keine verwendbare Leistung",
                             path=str(services_path))

    places = {lid: loc for lid, loc in locations.items()
              if not any(p.search(normalise_space(loc["name"])) for p in INTERNAL_NAME_PATTERNS)}
    offered_at = _relations(kept, places)
    used_offices = {oid for oids in offered_at.values() for oid in oids}
    offices = {lid: _office(lid, loc) for lid, loc in places.items() if lid in used_offices}
    services = {
        service_id: _service(service_id, entry,
                             tuple(o for o in offered_at[service_id] if o in offices))
        for service_id, entry in kept.items()
    }
    organisation = _most_common(_str(loc.get("organization")) for loc in places.values())
    city = (_most_common(o.address.city for o in offices.values() if o.address)
            or _city_from_organisation(organisation)
            or _city_from_organisation(_most_common(_authority_names(kept.values()))))
    if not city:
        raise CatalogueError("Der Name der Stadt lässt sich aus dem DLDB-Export nicht ermitteln "
                             "(keine Adressen, keine Organisation)", path=str(locations_path))
    log.info("catalogue.dldb.loaded services=%d offices=%d city=%s", len(services), len(offices),
             city)
    return Catalogue(
        city=city, services=services, offices=offices,
        website=_most_common(_url(authority.get("webinfo")) for entry in kept.values()
                             for authority in _dicts(entry.get("authorities"))),
        attribution=_attribution(organisation),
    )


# --- reading and validating ---------------------------------------------------------------


def _read_data(path: Path, *, what: str) -> list[Any]:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CatalogueError(f"Datei nicht lesbar ({err.strerror or err})", path=str(path)) from err
    if not raw.strip():
        raise CatalogueError(f"Die Datei ist leer, erwartet wird ein DLDB-Export der {what}",
                             path=str(path))
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CatalogueError(f"keine gültige JSON-Datei ({err})", path=str(path)) from err
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise CatalogueError(
            f"kein DLDB-Export der {what}: erwartet wird ein Objekt mit einer Liste 'data'",
            path=str(path))
    data: list[Any] = document["data"]
    return data


def _entry_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _valid_entries(data: list[Any], path: Path, *, what: str) -> dict[str, dict[str, Any]]:
    """Entries with an id and a name, by id; others are skipped with one warning."""
    entries: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            problems.append(f"data[{index}]: kein Objekt")
            continue
        entry_id = _entry_id(entry.get("id"))
        if entry_id is None:
            problems.append(f"data[{index}]: keine gültige 'id'")
        elif not normalise_space(_str(entry.get("name")) or ""):
            problems.append(f"data[{index}] (id {entry_id}): kein 'name'")
        elif entry_id in entries:
            problems.append(f"data[{index}]: doppelte id {entry_id}")
        else:
            entries[entry_id] = entry
    if problems:
        log.warning("catalogue.dldb.invalid_entries file=%s kind=%s count=%d first=%s",
                    path.name, what, len(problems), problems[:5])
    return entries


# --- the skip rule ------------------------------------------------------------------------


def skip_reason(entry: dict[str, Any]) -> str | None:
    """Why a DLDB service entry is left out of the catalogue, or ``None`` to keep it."""
    name = normalise_space(_str(entry.get("name")) or "")
    if any(p.search(name) for p in INTERNAL_NAME_PATTERNS):
        return "internal-name"
    description = _description_text(html_sections(_str(entry.get("description"))))
    if any(p.search(description) for p in INTERNAL_NOTE_PATTERNS):
        return "internal-note"
    if (not description and not _keywords(entry) and not _fees_html_text(entry)
            and not _dicts(entry.get("locations"))):
        return "empty"
    return None


# --- services -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Extracted:
    documents: tuple[str, ...]
    prerequisites: tuple[str, ...]
    fees: str | None
    processing_time: str | None
    legal_basis: str | None
    description: str


def _service(service_id: str, entry: dict[str, Any], office_ids: tuple[str, ...]) -> Service:
    name = normalise_space(entry["name"])
    html = _str(entry.get("description"))
    sections = html_sections(html)
    fields = _extract(entry, sections)
    meta = _dict(entry.get("meta"))
    appointment = _fill(_dict(entry.get("appointment")).get("link"), serviceId=service_id)
    url = _fill(meta.get("url"), serviceId=service_id)
    if entry.get("public") is False:
        # Not bookable online: the booking page does not list it.
        if url == appointment:
            url = None
        appointment = None
    return Service(
        id=service_id, name=name, description=fields.description,
        synonyms=_synonyms(entry, name), prerequisites=fields.prerequisites,
        documents=fields.documents, fees=fields.fees, processing_time=fields.processing_time,
        legal_basis=fields.legal_basis,
        online_url=_online_url(entry, html_links(html), appointment),
        url=url or appointment, appointment_url=appointment, office_ids=office_ids,
        leika=_leika(entry.get("leika")),
    )


def _extract(entry: dict[str, Any], sections: list[Section]) -> _Extracted:
    used: set[int] = set()

    def take(pattern: re.Pattern[str]) -> list[Section]:
        found = [i for i, s in enumerate(sections)
                 if i not in used and s.heading and pattern.search(s.heading)]
        used.update(found)
        return [sections[i] for i in found]

    documents = _names(entry.get("requirements")) or _items(take(_DOCUMENT_HEADING))
    prerequisites = _names(entry.get("prerequisites")) or _items(take(_PREREQUISITE_HEADING))
    fees = _fees_html_text(entry) or _joined(take(_FEES_HEADING))
    stated = _str(entry.get("process_time")) or _str(entry.get("processing_time")) or ""
    processing = html_to_text(stated) or _joined(take(_DURATION_HEADING))
    legal = "; ".join(_names(entry.get("legal"))) or _joined(take(_LEGAL_HEADING))
    rest = [s for i, s in enumerate(sections) if i not in used]
    description = _description_text(rest) or _description_text(sections)
    if not documents:
        documents = tuple(s for s in _sentences(rest, _BRING_SENTENCE)
                          if not _ANAPHORIC_START.match(s))
    if not processing:
        found = [s for s in _sentences(rest, _PROCESSING_WORD, with_heading=True)
                 if _TIME_SPAN.search(s)]
        processing = " ".join(found[:MAX_PROCESSING_SENTENCES]) or None
    return _Extracted(documents=documents, prerequisites=prerequisites, fees=fees or None,
                      processing_time=processing, legal_basis=legal or None,
                      description=description)


def _description_text(sections: list[Section]) -> str:
    parts: list[str] = []
    for section in sections:
        body = _EDITORIAL_SENTENCE.sub("", section.text).strip()
        if section.heading and body:
            parts.append(f"{section.heading}\n\n{body}")
        elif section.heading:
            parts.append(section.heading)
        elif body:
            parts.append(body)
    return "\n\n".join(parts)


def _items(sections: list[Section]) -> tuple[str, ...]:
    """The entries of list-like sections: list items, and paragraphs outside lists.

    A paragraph that introduces a list ("Bitte bringen Sie mit:") is dropped. Items that continue
    the sentence before the list ("... wird Personen erteilt," then "die im Bundesgebiet
    geboren ...") are joined with it into one entry.
    """
    out: list[str] = []
    for section in sections:
        previous_was_paragraph = False
        for chunk in section.text.split("\n\n"):
            lines = [line.strip() for line in chunk.split("\n") if line.strip()]
            if not lines:
                continue
            if lines[0].startswith("- "):
                items = [line.removeprefix("- ") for line in lines if line.startswith("- ")]
                if previous_was_paragraph and items[0][:1].islower():
                    out[-1] = " ".join([out[-1], *items])
                else:
                    if previous_was_paragraph and out[-1].endswith(":"):
                        out.pop()
                    out.extend(items)
                previous_was_paragraph = False
            else:
                out.append(" ".join(lines))
                previous_was_paragraph = True
    return _unique(out)


def _joined(sections: list[Section]) -> str | None:
    text = "\n\n".join(s.text for s in sections if s.text)
    return text or None


def _sentences(sections: list[Section], pattern: re.Pattern[str], *,
               with_heading: bool = False) -> tuple[str, ...]:
    out: list[str] = []
    for section in sections:
        for line in section.text.split("\n"):
            line = line.removeprefix("- ").strip()
            for match in _SENTENCE.finditer(line):
                sentence = match.group(0).strip()
                if sentence and pattern.search(sentence):
                    if with_heading and section.heading:
                        separator = " " if section.heading.endswith(("?", "!")) else ": "
                        sentence = f"{section.heading}{separator}{sentence}"
                    out.append(sentence)
    return _unique(out)


def _fees_html_text(entry: dict[str, Any]) -> str:
    return html_to_text(_str(entry.get("fees")))


def _keywords(entry: dict[str, Any]) -> list[str]:
    raw = _dict(entry.get("meta")).get("keywords")
    if isinstance(raw, str):
        parts: Iterable[Any] = raw.split(",")
    elif isinstance(raw, list):
        parts = raw
    else:
        return []
    return [normalise_space(p) for p in parts if isinstance(p, str) and normalise_space(p)]


def _synonyms(entry: dict[str, Any], name: str) -> tuple[str, ...]:
    seen = {name.casefold()}
    out: list[str] = []
    for keyword in _keywords(entry):
        if keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            out.append(keyword)
    return tuple(out)


def _online_url(entry: dict[str, Any], description_links: list[Link],
                appointment: str | None) -> str | None:
    processing = _url(_dict(entry.get("onlineprocessing")).get("link"))
    if processing and processing != appointment and not _NOT_APPLICATION_URL.search(processing):
        return processing
    listed = [Link(text=normalise_space(_str(item.get("name")) or ""),
                   url=_str(item.get("link")) or "")
              for key in ("links", "forms") for item in _dicts(entry.get(key))]
    for link in [*description_links, *listed]:
        url = _url(link.url)
        if (url and _ONLINE_TEXT.search(link.text) and not _NOT_ONLINE_APPLICATION.search(link.text)
                and not _NOT_APPLICATION_URL.search(url)):
            return url
    return None


def _leika(value: Any) -> str | None:
    match = _LEIKA.search(value) if isinstance(value, str) else None
    return match.group(0) if match else None


# --- offices ------------------------------------------------------------------------------


def _relations(services: dict[str, dict[str, Any]],
               locations: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Service id -> office ids, from both sides of the export, in a stable order."""
    offered: dict[str, list[str]] = {service_id: [] for service_id in services}
    for service_id, entry in services.items():
        offices = offered[service_id]
        for ref in _dicts(entry.get("locations")):
            office_id = _entry_id(ref.get("location"))
            if office_id is not None and office_id in locations and office_id not in offices:
                offices.append(office_id)
    for office_id, location in locations.items():
        for ref in _dicts(location.get("services")):
            service_id = _entry_id(ref.get("service"))
            offices = offered.get(service_id) if service_id is not None else None
            if offices is not None and office_id not in offices:
                offices.append(office_id)
    return offered


def _office(office_id: str, raw: dict[str, Any]) -> Office:
    contact = _dict(raw.get("contact"))
    meta_url = _fill(_dict(raw.get("meta")).get("url"), locationId=office_id)
    is_booking_page = bool(meta_url and "termin" in meta_url.lower())
    booking = meta_url if is_booking_page else None
    if booking is None:
        links = {_url(_dict(ref.get("appointment")).get("link"))
                 for ref in _dicts(raw.get("services"))}
        booking = links.pop() if len(links) == 1 else None
    if raw.get("public") is False:
        booking = None  # not offered for online booking
    website = _url(contact.get("webinfo")) or (None if is_booking_page else meta_url)
    return Office(
        id=office_id,
        name=normalise_space(_str(raw.get("displayName")) or raw["name"]),
        address=_address(_dict(raw.get("address"))), geo=_geo(_dict(raw.get("geo"))),
        phone=_text(contact.get("phone")), email=_email(contact.get("email")),
        url=website, booking_url=booking,
    )


def _address(raw: dict[str, Any]) -> Address | None:
    street = " ".join(t for t in (_text(raw.get("street")), _text(raw.get("house_number"))) if t)
    postal_code = _text(raw.get("postal_code")) or ""
    city = _text(raw.get("city")) or ""
    if not (street or postal_code or city):
        return None
    return Address(street=street, postal_code=postal_code, city=city)


def _geo(raw: dict[str, Any]) -> GeoPoint | None:
    try:
        lat, lon = float(raw["lat"]), float(raw["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return GeoPoint(lat, lon)


# --- catalogue-level ----------------------------------------------------------------------


def _attribution(organisation: str | None) -> str | None:
    if not organisation:
        return None
    return f"Datenquelle: {organisation}"


_CITY_PREFIX = _rx(r"^(landeshauptstadt|stadtverwaltung|stadt|gemeinde|markt|bezirksamt)\s+")


def _city_from_organisation(name: str | None) -> str | None:
    if not name or not _CITY_PREFIX.match(name):
        return None
    return _CITY_PREFIX.sub("", name).strip() or None


def _authority_names(services: Iterable[dict[str, Any]]) -> Iterator[str | None]:
    for entry in services:
        for authority in _dicts(entry.get("authorities")):
            yield _str(authority.get("name"))


# --- small, type-safe accessors -----------------------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return (normalise_space(value) or None) if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _names(value: Any) -> tuple[str, ...]:
    """Names of Berlin-style ``[{"name": ..., "description": ...}]`` lists."""
    return _unique(normalise_space(_str(item.get("name")) or "") for item in _dicts(value))


def _url(value: Any) -> str | None:
    text = _str(value)
    if not text:
        return None
    text = text.strip()
    return text if re.match(r"^https?://\S+$", text) else None


def _email(value: Any) -> str | None:
    text = _text(value)
    return text if text and re.fullmatch(r"[^@\s]+@[^@\s]+", text) else None


def _fill(template: Any, **values: str) -> str | None:
    text = _url(template)
    if text is None:
        return None
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return None if _PLACEHOLDER.search(text) else text


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = "".join(value.casefold().split())
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return tuple(out)


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None
