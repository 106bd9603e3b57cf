"""Runs the pipeline's daily job the way a scaled-out deployment does, on one machine, for real:

- a Dagster instance whose storage is PostgreSQL (`dagster-postgres`), in a temporary DAGSTER_HOME;
- `dagster-celery worker` processes on a Redis broker and result backend, each taking one step at a time;
- one run per day, launched with `dagster job execute` on the celery executor (each run's own process
  is its run worker: it submits the steps to the queue and waits for them);
- re-execution from failure with `reexecute.py`, as the UI's "Re-execute from failure".

Used by `tests/test_scale_out.py` and `benchmarks/scale_out.py`. Every process here is started by the
harness and stopped by it; `kill_worker` is the machine loss the tests inflict.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dagster as dg
import yaml

CODE_LOCATION = Path(__file__).with_name("code_location.py")
REEXECUTE = Path(__file__).with_name("reexecute.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
# The variable naming the JSON file of `LocationSettings` (code_location.py reads it).
SETTINGS_ENV = "PINTEREST_SCALE_OUT_SETTINGS"
JOB = "pinterest_daily"  # build_pinterest_defs' job name without a key_prefix
PARTITION_TAG = "dagster/partition"
_WORKER_READY_TIMEOUT_S = 60.0


@dataclass
class LocationSettings:
    """What the code location builds the pipeline from (written as JSON for every process).

    `state` is the pipeline's own state: a DuckDB file path today. To run the same tests on the
    PostgreSQL state store, pass a `postgresql://` URL here (e.g. the `postgres_url` fixture): nothing
    else in the harness changes.
    """

    extracts: dict[str, str]
    warehouse: str
    state: str
    ad_account_id: str
    access_token_env: str
    api_url: str
    start_date: str
    fixed_now: str
    pool: str | None = "pinterest_pipeline_db"


def write_dagster_yaml(home: Path, postgres_url: str) -> Path:
    """DAGSTER_HOME/dagster.yaml: run, event log and schedule storage in PostgreSQL (dagster-postgres).

    The run coordinator and launcher are Dagster's defaults, named so the file says what it runs:
    runs started with `dagster job execute` run in that command's own process, and their steps go to
    the Celery queue through the job's executor, not through the launcher.
    """
    home.mkdir(parents=True, exist_ok=True)
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, on which dagster-postgres' event log
    # fails (`NOTIFY run_events, $1` is not valid SQL); its own driver is psycopg2.
    dagster_url = postgres_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    config = {
        "storage": {"postgres": {"postgres_url": dagster_url}},
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
        "run_launcher": {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"},
        "telemetry": {"enabled": False},
    }
    path = home / "dagster.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_celery_config(path: Path, broker_url: str, backend_url: str) -> Path:
    """The executor's config, one file for both sides: the run config of every run (`-c`) and the
    worker's `-y`, so runs and workers always agree on the broker (dagster-celery's own advice)."""
    config = {"execution": {"config": {"broker": broker_url, "backend": backend_url}}}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def worker_command(config_yaml: Path, name: str) -> list[str]:
    """`dagster-celery worker start` for one worker that runs one step at a time.

    `--disable-prefetch` (Redis brokers) makes a busy worker leave queued steps to the others instead
    of holding one in reserve: a worker that dies takes only the step it was running with it.
    """
    return [
        "dagster-celery", "worker", "start", "-A", "dagster_celery.app", "-y", str(config_yaml), "-n", name,
        "--loglevel", "INFO", "--", "--concurrency=1", "--disable-prefetch",
    ]


def day_run_command(config_yaml: Path, partition_key: str) -> list[str]:
    """One run of the daily job for one day, on the celery executor."""
    return [
        "dagster", "job", "execute", "-f", str(CODE_LOCATION), "-a", "defs", "-j", JOB,
        "-c", str(config_yaml), "--tags", json.dumps({PARTITION_TAG: partition_key}),
    ]


@dataclass
class CeleryWorker:
    """One `dagster-celery worker` and the `celery` processes it starts, all in one process group."""

    name: str
    process: subprocess.Popen
    log: Path

    @property
    def hostname(self) -> str:
        """The node name Celery reports in each step's "Executing steps ... in celery worker" event."""
        return f"{self.name}@{os.uname().nodename}"

    def wait_ready(self, timeout: float = _WORKER_READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while f"{self.hostname} ready." not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker {self.name} did not start; its log:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def pids(self) -> list[int]:
        """Every live process of the worker's group (the CLI, celery's main process and its pool)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid and fields[0] != "Z":  # fields[2]: the process group
                found.append(int(stat.parent.name))
        return found

    def kill(self) -> None:
        """SIGKILL to the whole worker at once: a machine lost mid-step, nothing gets to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # celery's warm shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class StepStates:
    """Where each step of one run stands, from its event log."""

    ended: set[str] = field(default_factory=set)
    submitted: set[str] = field(default_factory=set)
    worker_of: dict[str, str] = field(default_factory=dict)  # step key -> Celery hostname running it

    def open_steps(self) -> set[str]:
        return self.submitted - self.ended

    def lost_on(self, hostname: str) -> set[str]:
        return {step for step in self.open_steps() if self.worker_of.get(step) == hostname}


_STEP_ENDS = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY"}


def step_states(instance: dg.DagsterInstance, run_id: str) -> StepStates:
    states = StepStates()
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value in _STEP_ENDS:
            states.ended.add(event.step_key)
        elif event.event_type_value == "ENGINE_EVENT":
            if event.message and event.message.startswith("Submitting celery task"):
                states.submitted.add(event.step_key)
                states.ended.discard(event.step_key)  # a retry submits the step again
                states.worker_of.pop(event.step_key, None)
            worker = event.engine_event_data.metadata.get("Celery worker") if event.engine_event_data else None
            if worker is not None:
                states.worker_of[event.step_key] = worker.value
    return states


class ScaleOutCluster:
    """A DAGSTER_HOME on PostgreSQL, the Celery config, the location's settings and the workers."""

    def __init__(
        self, root: Path, *, postgres_url: str, redis_url: str, settings: LocationSettings, token: str
    ) -> None:
        self.root = root
        self.home = root / "dagster_home"
        write_dagster_yaml(self.home, postgres_url)
        self.celery_yaml = write_celery_config(root / "celery.yaml", redis_url, redis_url)
        self.settings_file = root / "location.json"
        self.settings_file.write_text(json.dumps(asdict(settings), indent=2))
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            SETTINGS_ENV: str(self.settings_file),
            settings.access_token_env: token,
        }
        self.instance = dg.DagsterInstance.from_config(str(self.home))
        self.workers: list[CeleryWorker] = []
        self.run_processes: dict[str, subprocess.Popen] = {}  # partition key -> its run process

    def start_worker(self, name: str) -> CeleryWorker:
        log = self.root / f"worker-{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                worker_command(self.celery_yaml, name),
                env=self.env, cwd=self.root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        worker = CeleryWorker(name, process, log)
        self.workers.append(worker)
        return worker

    def start_workers(self, *names: str) -> list[CeleryWorker]:
        workers = [self.start_worker(name) for name in names]
        for worker in workers:
            worker.wait_ready()
        return workers

    def launch_day(self, partition_key: str) -> subprocess.Popen:
        """Start the run of one day; it runs in its own process, concurrently with the others."""
        log = (self.root / f"run-{partition_key}.log").open("ab")
        process = subprocess.Popen(
            day_run_command(self.celery_yaml, partition_key),
            env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.run_processes[partition_key] = process
        return process

    def reexecute_from_failure(self, run_id: str) -> subprocess.Popen:
        log = (self.root / f"reexecute-{run_id}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, str(REEXECUTE), str(CODE_LOCATION), JOB, run_id],
            env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        return process

    def run_of(self, partition_key: str) -> dg.DagsterRun | None:
        """The first run of a day (the one `launch_day` started), once it exists."""
        runs = self.instance.get_runs(dg.RunsFilter(job_name=JOB, tags={PARTITION_TAG: partition_key}))
        originals = [run for run in runs if run.parent_run_id is None]
        return originals[0] if originals else None

    def wait_for_runs(self, processes: list[subprocess.Popen], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for process in processes:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))

    def fail_stranded_run(self, partition_key: str, lost_worker: CeleryWorker) -> dg.DagsterRun:
        """End the run of `partition_key` whose step died with `lost_worker`, as run monitoring would.

        dagster-celery's run worker waits for every step it submitted, and a task whose worker was
        killed never reports: the run would wait forever, and even a termination request only makes
        it wait for that step. So its process is stopped and the run is marked failed, which is what
        `dagster-daemon`'s run monitoring does to a run whose worker is gone, and what makes "Re-execute
        from failure" available. Call it only once the run has no step left on a live worker.
        """
        run = self.run_of(partition_key)
        assert run is not None, partition_key
        lost = sorted(step_states(self.instance, run.run_id).lost_on(lost_worker.hostname))
        process = self.run_processes[partition_key]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.instance.report_run_failed(
            run, message=f"celery worker {lost_worker.hostname} was lost while running {', '.join(lost)}"
        )
        return self.instance.get_run_by_id(run.run_id)

    def close(self) -> None:
        for process in self.run_processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for worker in self.workers:
            worker.stop()
        self.instance.dispose()


def connections_to(pids: list[int], port: int) -> int:
    """How many ESTABLISHED TCP connections to 127.0.0.1:`port` the processes `pids` hold open
    (read from /proc: a request of theirs to the fake API is in flight while one is)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


@contextmanager
def scale_out_cluster(root: Path, **kwargs) -> Iterator[ScaleOutCluster]:
    cluster = ScaleOutCluster(root, **kwargs)
    try:
        yield cluster
    finally:
        cluster.close()
