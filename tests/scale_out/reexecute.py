"""Re-execute a failed run of the scale-out code location from its failure, as the UI's
"Re-execute from failure" does: only the steps that did not succeed run again, on the celery executor.

    python tests/scale_out/reexecute.py CODE_LOCATION.py JOB_NAME RUN_ID

Run with the same environment as the first run (DAGSTER_HOME, the location's settings, the token).
Exits 0 when the new run succeeded.
"""

import sys

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

_CARRIED_TAGS = {"dagster/partition", "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"}


def main(code_location: str, job_name: str, parent_run_id: str) -> int:
    # The same file pointer `dagster job execute -f CODE_LOCATION -a defs` records, so the workers load
    # the job exactly as they did for the parent run.
    job = ReconstructableRepository.for_file(code_location, "defs").get_reconstructable_job(job_name)
    with dg.DagsterInstance.get() as instance:
        parent = instance.get_run_by_id(parent_run_id)
        result = dg.execute_job(
            job,
            instance=instance,
            run_config=parent.run_config,
            # The partition tags say which day the steps work on; the UI copies them too.
            tags={
                key: value for key, value in parent.tags.items() if key in _CARRIED_TAGS or not key.startswith("dagster/")
            },
            reexecution_options=dg.ReexecutionOptions.from_failure(parent_run_id, instance),
        )
        print(result.run_id)
        return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
