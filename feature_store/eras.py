"""Facts of the sport the features are built from: the seasons that opened a technical era and
the street circuits."""

from __future__ import annotations

# Seasons that opened a new technical era (engine formula, aerodynamics or car concept
# rewritten): ratings carried over from the season before say less in their first races.
ERA_STARTS = frozenset({1983, 1989, 1994, 1998, 2009, 2014, 2017, 2022, 2026})
ERA_FADE_ROUNDS = 10

# Street and park circuits (temporary tracks on public roads or park roads), by Ergast id.
STREET_CIRCUITS = frozenset(
    {
        "monaco",
        "baku",
        "marina_bay",
        "jeddah",
        "vegas",
        "miami",
        "albert_park",
        "villeneuve",
        "adelaide",
        "detroit",
        "phoenix",
        "dallas",
        "long_beach",
        "valencia",
        "pescara",
        "boavista",
        "monsanto",
        "montjuic",
        "ain-diab",
        "pedralbes",
        "las_vegas",
        "sochi",
    }
)
