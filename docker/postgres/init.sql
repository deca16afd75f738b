-- One server, one database per store (docker-entrypoint-initdb.d runs this once).
CREATE DATABASE warehouse;
CREATE DATABASE airflow;
CREATE DATABASE mlflow;
