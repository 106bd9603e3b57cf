"""Scale-out harness: a Dagster instance on dagster-postgres, Celery workers on a Redis broker, and a
code location that runs the pipeline's daily job on the celery executor (docs/production.md)."""
