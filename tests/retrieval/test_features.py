"""Candidate features that are pure functions."""

from __future__ import annotations

import pytest

from retrieval.features import QueryWord, name_cover, name_match, particle_conflict


def _w(term: str, weight: float, parts: tuple[str, ...] = ()) -> QueryWord:
    return QueryWord(term, parts, weight)


def test_name_cover_is_the_query_side_share() -> None:
    # "gebrauchtes auto ummelden": a one-word synonym "Auto" matches completely (name side)
    # but covers only its own word of the query
    query = [_w("gebraucht", 2.0), _w("auto", 1.0), _w("ummeld", 3.0)]
    auto = frozenset({"auto"})
    assert name_cover(query, [auto]) == pytest.approx(1.0 / 6.0)
    assert name_match(frozenset({"gebraucht", "auto", "ummeld"}), [[_w("auto", 1.0)]]) == 1.0
    both = frozenset({"auto", "ummeld"})
    assert name_cover(query, [auto, both]) == pytest.approx(4.0 / 6.0)


def test_name_cover_counts_compounds_by_their_parts() -> None:
    query = [_w("reisepassverlust", 5.0, ("reisepass", "verlust"))]
    assert name_cover(query, [frozenset({"verlust", "reisepass", "diebstahl"})]) == 1.0
    assert name_cover([], [frozenset({"x"})]) == 0.0


def test_particle_conflict_is_the_opposite_action_of_one_root() -> None:
    # "Auto anmelden" against the service "Fahrzeug abmelden": same root, other particle
    assert particle_conflict(frozenset({"auto", "anmeld"}), frozenset({"fahrzeug", "abmeld"})) == 1.0
    assert particle_conflict(frozenset({"wohnsitz", "anmeld"}), frozenset({"wohnsitz", "anmeld"})) == 0.0
    # a name that has both words is no conflict; nor are unrelated words or bare roots
    assert particle_conflict(frozenset({"anmeld"}), frozenset({"anmeld", "abmeld"})) == 0.0
    assert particle_conflict(frozenset({"einreis"}), frozenset({"ausreis"})) == 1.0
    assert particle_conflict(frozenset({"meld"}), frozenset({"abmeld"})) == 0.0
    assert particle_conflict(frozenset({"ummeld"}), frozenset({"reisepass"})) == 0.0
