"""ELO rater, ensemble, probability normalisation and calibration, metrics, MLflow wrapper."""
