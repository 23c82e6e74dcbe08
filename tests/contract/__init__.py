"""Contract tests: the models, the generated CRD, the chart copy and the API server agree."""
