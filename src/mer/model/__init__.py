"""The estimator pipeline, its evaluation, deployment gates and the MLflow registry."""
