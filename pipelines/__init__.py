"""Batch steps as plain functions: ingest, validate, build features, train, promote, score."""
