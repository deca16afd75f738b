"""Airflow connections of the platform's outside services, with their defaults."""

from __future__ import annotations


def connection_url(conn_id: str) -> str | None:
    """The base URL held by Airflow connection `conn_id` (its host), or None when undefined.

    Define it e.g. as AIRFLOW_CONN_F1_API='{"conn_type": "http", "host": "https://…"}'.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    host = (connection.host or "").rstrip("/")
    return host or None
