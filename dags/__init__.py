"""Thin Airflow DAG files; each task calls one function of pipelines/ or bot/."""
