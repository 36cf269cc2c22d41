"""``python -m tests.chaos [SCENARIO ...]``: run the fault suite, print one row per scenario,
exit 1 unless every row is exact."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from collections.abc import Coroutine
from typing import Any

from tests.chaos.harness import SCENARIO_BUDGET_SECONDS, Row, Suite, render, workdir
from tests.chaos.scenarios import SCENARIOS


async def run_suite(names: list[str], keep_logs: bool = False) -> list[Row]:
    """Run the named scenarios, one after the other, on one suite. The service logs are kept
    unless every scenario ended exact: a failed row, an exception or a timeout keeps them."""
    directory = workdir()
    # Printed first: a run killed from outside (a CI or pytest timeout) still says where.
    print(f"chaos: service logs in {directory}", file=sys.stderr, flush=True)
    rows: list[Row] = []
    keep = keep_logs
    try:
        async with Suite(directory) as suite:
            for name in names:
                print(f"chaos: {name} ...", file=sys.stderr, flush=True)
                row = await within_budget(name, SCENARIOS[name](suite))
                print(f"chaos: {name}: {'exact' if row.ok else row.problems}", file=sys.stderr)
                rows.append(row)
    except BaseException:
        keep = True
        raise
    finally:
        if keep or not all(r.ok for r in rows):
            print(f"chaos: service logs kept in {directory}", file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return rows


async def within_budget(name: str, scenario: Coroutine[Any, Any, Row]) -> Row:
    """The scenario's row, or a failed one if it overran SCENARIO_BUDGET_SECONDS."""
    began = time.monotonic()
    try:
        return await asyncio.wait_for(scenario, SCENARIO_BUDGET_SECONDS)
    except TimeoutError:
        row = Row(name, 0, 0, 0, 0, 0, 0, 0, time.monotonic() - began, "")
        row.problems.append(f"over its {SCENARIO_BUDGET_SECONDS:.0f} s budget")
        return row


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument(
        "scenarios",
        nargs="*",
        choices=[[], *SCENARIOS],
        metavar="SCENARIO",
        help=f"default: all of {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the service logs")
    args = parser.parse_args()
    began = time.monotonic()
    rows = asyncio.run(run_suite(args.scenarios or list(SCENARIOS), args.keep_logs))
    print(render(rows))
    print(f"\n{len(rows)} scenarios in {time.monotonic() - began:.0f} s", file=sys.stderr)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
