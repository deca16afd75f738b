"""Airflow hooks wrapping connections (F1 API, Open-Meteo, Polymarket), where needed."""
