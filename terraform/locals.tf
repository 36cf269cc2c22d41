data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  tags = merge(var.tags, {
    Project = "event-data"
    Stack   = var.name
  })

  # The service listens on one port for everything: webhook, OAuth token, query API, health.
  container_name = "event-data"
  container_port = 8000
  image          = "${aws_ecr_repository.this.repository_url}:${var.image_tag}"

  https       = var.certificate_arn != null
  host        = coalesce(var.domain_name, aws_lb.this.dns_name)
  scheme      = local.https ? "https" : "http"
  public_url  = "${local.scheme}://${local.host}"
  db_name     = "event_data"
  db_port     = 5432
  db_major    = split(".", var.db_engine_version)[0]
  bucket_name = coalesce(var.archive_bucket_name, "${var.name}-archive-${local.account_id}-${local.region}")

  # serve drains HTTP for this long before it gives in-flight batches their own grace period
  # (service/event_data/cli.py GRACEFUL_SHUTDOWN_SECONDS).
  http_drain_seconds = 10
}
