"""Live ingestion: the Jolpica (Ergast-compatible) F1 API and Open-Meteo weather."""
