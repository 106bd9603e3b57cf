"""This repository's example code location: the pipeline built with `pinterest_pipeline.dagster`.

Not part of the installed package (a generic top-level name like this one belongs to users' own
projects); `workspace.yaml` loads it from a checkout.
"""
