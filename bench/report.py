"""The run's results: a table on stdout and ``bench/results/latest.json``."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import orjson

TITLES = {
    "P1": "loader ÷ binary COPY",
    "P2": "ack p99 - PutObject p99 (ms)",
    "P3": "webhook 200 → visible, p95 (s)",
    "P4": "disk bytes/event ÷ raw",
    "P5": "archive bytes/event ÷ raw",
    "P6": "API p95 ÷ SQL p95 (worst query)",
}


def machine(postgres_version: str) -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count() or 1,
        "cpu_model": model,
        "memory_gb": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "postgres": postgres_version,
        "kernel": platform.release(),
        "commit": _commit(),
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def table(results: dict[str, Any]) -> str:
    lines = [f"{'':4} {'measure':34} {'value':>9}  {'target':<14} met", "-" * 70]
    for key, title in TITLES.items():
        if key not in results:
            continue
        result = results[key]
        mark = "yes" if result["met"] else "NO"
        lines.append(f"{key:4} {title:34} {result['value']:>9}  {result['target']:<14} {mark}")
    if "P6" in results:
        lines.append("")
        lines.append(
            f"{'P6 query':28} {'API p95':>9} {'SQL p95':>9} {'ratio':>6} {'rows':>6} parts"
            "  with httpx"
        )
        for name, q in results["P6"]["detail"]["queries"].items():
            lean = q.get("with_httpx", {}).get("ratio", "")
            lines.append(
                f"{name:28} {q['api_p95_ms']:>7}ms {q['sql_p95_ms']:>7}ms {q['ratio']:>6}"
                f" {q['results']:>6} {q['partitions_touched']:>5} {lean:>12}"
                + (
                    f" OUTSIDE {q['partitions_outside_window']}"
                    if q["partitions_outside_window"]
                    else ""
                )
            )
        floor = results["P6"]["detail"].get("http_round_trip")
        if floor:
            lines.append(
                f"{'HTTP round trip (/healthz)':28} {floor['p95_ms']:>7}ms"
                "  (in every API time above)"
            )
    if "capacity" in results:
        lines.append("")
        for name, value in results["capacity"].items():
            if name != "notes":
                lines.append(f"{name:52} {value}")
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
