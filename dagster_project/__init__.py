"""Dagster definitions for pinterest-pipeline: thin assets, checks and schedules over the engine."""
