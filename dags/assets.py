"""The Assets through which the platform's DAGs talk; declared once, imported by each DAG."""

from __future__ import annotations

from airflow.sdk import Asset

WAREHOUSE = Asset(name="f1/warehouse", uri="f1://warehouse")
FEATURES = Asset(name="f1/features", uri="f1://features")
MODELS = Asset(name="f1/models", uri="f1://models")
CHAMPIONS = Asset(name="f1/champions", uri="f1://champions")
