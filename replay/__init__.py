"""`f1 replay`: a past season run through the real DAGs on a simulated clock, against a local F1
API that reveals each session only after it happened. No Airflow here (plugins/replay.py drives
the DAGs)."""
