"""Which offices serve a citizen, and how to describe one: pure functions over the catalogue.

Selection, most specific first: the office responsible for the citizen's postcode
(``Office.postal_codes``), the office in the named district, then the offices nearest to a
point (the citizen's coordinates, or where the postcode or district lies according to the
catalogue's offices), else all offices of the service in catalogue order.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.actions import hours as oh
from bot.catalogue.model import Catalogue, GeoPoint, Office


class MatchedBy(StrEnum):
    ONLY = "only"  # the service has a single office
    POSTCODE = "postcode"
    DISTRICT = "district"
    NEAREST = "nearest"
    ALL = "all"  # nothing narrowed it down


@dataclass(frozen=True, slots=True)
class OfficeChoice:
    offices: tuple[Office, ...]
    matched_by: MatchedBy
    # The city splits responsibility by area and we do not know where the citizen lives.
    needs_location: bool = False
    # A postcode or district was given but matched nothing in the catalogue.
    unknown_location: bool = False


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _norm(text: str) -> str:
    return text.casefold().strip()


def locate(catalogue: Catalogue, *, postcode: str | None = None,
           district: str | None = None) -> GeoPoint | None:
    """Approximate coordinates of a postcode or district: the mean of catalogue offices there."""
    points = [
        o.geo for o in catalogue.offices.values() if o.geo is not None and (
            (postcode and ((o.address and o.address.postal_code == postcode)
                           or postcode in o.postal_codes))
            or (district and o.district and _norm(o.district) == _norm(district)))
    ]
    if not points:
        return None
    return GeoPoint(sum(p.lat for p in points) / len(points),
                    sum(p.lon for p in points) / len(points))


def _nearest(offices: list[Office], point: GeoPoint) -> tuple[Office, ...]:
    with_geo = [o for o in offices if o.geo is not None]
    without = [o for o in offices if o.geo is None]
    with_geo.sort(key=lambda o: distance_km(point, o.geo))  # type: ignore[arg-type]
    return tuple(with_geo + without)


def select_offices(catalogue: Catalogue, service_id: str, *, postcode: str | None = None,
                   district: str | None = None, geo: GeoPoint | None = None) -> OfficeChoice:
    offices = catalogue.offices_for(service_id)
    if len(offices) <= 1:
        return OfficeChoice(tuple(offices), MatchedBy.ONLY)
    if postcode:
        responsible = [o for o in offices if postcode in o.postal_codes]
        if responsible:
            return OfficeChoice(tuple(responsible), MatchedBy.POSTCODE)
    if district:
        local = [o for o in offices if o.district and _norm(o.district) == _norm(district)]
        if local:
            return OfficeChoice(tuple(local), MatchedBy.DISTRICT)
    point = geo or locate(catalogue, postcode=postcode, district=district)
    if point is not None:
        return OfficeChoice(_nearest(offices, point), MatchedBy.NEAREST)
    split_by_area = any(o.postal_codes for o in offices)
    return OfficeChoice(tuple(offices), MatchedBy.ALL,
                        needs_location=split_by_area and not (postcode or district),
                        unknown_location=bool(postcode or district))


_WORDS = re.compile(r"[\wäöüß]+", re.IGNORECASE)


def offices_named(catalogue: Catalogue, text: str) -> list[Office]:
    """Offices whose name the text mentions ("Bürgerbüro Nord", "Standesamt"), best first.

    An office matches when its leading name word (the kind of office) occurs in the text;
    further name words that also occur ("Nord") rank it higher.
    """
    words = {w.casefold() for w in _WORDS.findall(text)}
    city = _norm(catalogue.city)
    scored: list[tuple[int, int, Office]] = []
    for index, office in enumerate(catalogue.offices.values()):
        name_words = [w.casefold() for w in _WORDS.findall(office.name)
                      if len(w) > 2 and w.casefold() != city]
        if not name_words or not any(_kind_match(n, words) for n in name_words[:2]):
            continue
        score = sum(1 for n in name_words if _kind_match(n, words))
        scored.append((-score, index, office))
    if not scored:
        return []
    best = min(s for s, _, _ in scored)
    return [o for s, _, o in sorted(scored, key=lambda t: (t[0], t[1])) if s == best]


def _kind_match(name_word: str, words: set[str]) -> bool:
    # "Zulassungsstelle" matches "Kfz-Zulassungsstelle"; "Bürgerbüro" matches "Bürgerbüros".
    return any(w == name_word or (len(w) >= 6 and (w.startswith(name_word) or name_word.endswith(w)))
               for w in words)


def describe(office: Office, at: dt.datetime, lang: str = "de",
             day: dt.date | None = None) -> str:
    """A few lines about one office: name, address, open now (or on ``day``), contact."""
    lines = [office.name]
    if office.address is not None:
        lines.append(office.address.one_line())
    if office.opening_hours is not None:
        if day is not None:
            lines.append(oh.day_text(office.opening_hours, day, lang))
        else:
            lines.append(oh.status_text(office.opening_hours, at, lang))
        week = "; ".join(oh.week_lines(office.opening_hours, lang))
        if week:
            lines.append(("Opening hours: " if lang == "en" else "Öffnungszeiten: ") + week)
    if office.phone:
        lines.append(("Phone: " if lang == "en" else "Telefon: ") + office.phone)
    if office.booking_url:
        lines.append(("Book an appointment: " if lang == "en" else "Termin buchen: ")
                     + office.booking_url)
    if office.note:
        lines.append(office.note)
    return "\n".join(lines)
