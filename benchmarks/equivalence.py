"""Check that the baseline and the engine send the same events for the same rows.

A ratio is only meaningful between two programs that do the same work: the events are compared as
parsed JSON per event_id (key order aside, byte-for-byte values), the rejects by source row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from naive_baseline import naive_transform

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.transform import transform
from pinterest_pipeline.transform.sources import register_source


@dataclass
class Comparison:
    rows: int
    engine_events: int
    baseline_events: int
    matching_events: int
    only_engine: list[str] = field(default_factory=list)
    only_baseline: list[str] = field(default_factory=list)
    different: dict[str, str] = field(default_factory=dict)  # event_id -> first differing path
    reject_mismatches: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    # event_id -> (engine's warnings, baseline's): reported, not counted as a mismatch of what is sent
    warning_mismatches: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    @property
    def mismatches(self) -> int:
        return len(self.only_engine) + len(self.only_baseline) + len(self.different) + len(self.reject_mismatches)

    def as_dict(self, examples: int = 5) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "engine_events": self.engine_events,
            "baseline_events": self.baseline_events,
            "matching_events": self.matching_events,
            "mismatches": self.mismatches,
            "only_engine": self.only_engine[:examples],
            "only_baseline": self.only_baseline[:examples],
            "different": dict(list(self.different.items())[:examples]),
            "reject_mismatches": {str(k): v for k, v in list(self.reject_mismatches.items())[:examples]},
            "warning_mismatches": len(self.warning_mismatches),
            "warning_examples": dict(list(self.warning_mismatches.items())[:examples]),
        }


def compare(sample: Path, config: PipelineConfig, now: datetime) -> Comparison:
    """Run the engine and the baseline over the same Parquet sample and compare what they produce."""
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        result = transform(con, register_source(con, str(sample)), config, now=now)
        engine, engine_warnings = {}, {}
        for event_id, event_json, warnings in con.execute(
            f"SELECT event_id, event_json, warnings FROM {result.events_table}"
        ).fetchall():
            engine[event_id] = json.loads(event_json)
            engine_warnings[event_id] = sorted(warnings or [])
        engine_rejects = dict(con.execute(f"SELECT source_row, reason FROM {result.rejects_table}").fetchall())
    naive = naive_transform(pd.read_parquet(sample), config, now)
    baseline = {event["event_id"]: event for event in map(json.loads, naive.events)}
    baseline_rejects = {reject["source_row"]: reject["reason"] for reject in naive.rejects}

    comparison = Comparison(
        rows=naive.rows_in, engine_events=len(engine), baseline_events=len(baseline), matching_events=0,
        only_engine=sorted(engine.keys() - baseline.keys()), only_baseline=sorted(baseline.keys() - engine.keys()),
    )
    for event_id in engine.keys() & baseline.keys():
        difference = first_difference(engine[event_id], baseline[event_id])
        if difference is None:
            comparison.matching_events += 1
        else:
            comparison.different[event_id] = difference
        if engine_warnings[event_id] != naive.warnings[event_id]:
            comparison.warning_mismatches[event_id] = (engine_warnings[event_id], naive.warnings[event_id])
    for source_row in engine_rejects.keys() | baseline_rejects.keys():
        if engine_rejects.get(source_row) != baseline_rejects.get(source_row):
            comparison.reject_mismatches[source_row] = (
                engine_rejects.get(source_row),
                baseline_rejects.get(source_row),
            )
    return comparison


def first_difference(engine: Any, baseline: Any, path: str = "$") -> str | None:
    """The JSON path of the first value that differs, with both values, or None when equal."""
    if isinstance(engine, dict) and isinstance(baseline, dict):
        for key in sorted(engine.keys() | baseline.keys()):
            if key not in engine or key not in baseline:
                return f"{path}.{key}: engine {engine.get(key)!r:.80} vs baseline {baseline.get(key)!r:.80}"
            found = first_difference(engine[key], baseline[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(engine, list) and isinstance(baseline, list) and len(engine) == len(baseline):
        for index, (left, right) in enumerate(zip(engine, baseline, strict=True)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    if type(engine) is not type(baseline) or engine != baseline:
        return f"{path}: engine {engine!r:.80} vs baseline {baseline!r:.80}"
    return None
