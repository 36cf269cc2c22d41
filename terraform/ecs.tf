# One container per task, as the design has it: the HTTP receiver, the SQS consumer and the
# query API share one process and one port.

locals {
  db_ssl_verified = var.database_ssl_root_cert_path != ""

  environment = {
    EVENT_DATA_ENV                          = "production"
    AWS_REGION                              = local.region
    EVENT_DATA_BUCKET                       = aws_s3_bucket.archive.id
    EVENT_DATA_QUEUE_URL                    = aws_sqs_queue.batches.url
    EVENT_DATA_ARCHIVE_PREFIX               = var.archive_prefix
    EVENT_DATA_HOST                         = "0.0.0.0"
    EVENT_DATA_PORT                         = tostring(local.container_port)
    EVENT_DATA_WEBHOOK_USER                 = var.webhook_user
    EVENT_DATA_OAUTH_CLIENT_ID              = var.oauth_client_id
    EVENT_DATA_RETENTION_DAYS               = tostring(var.retention_days)
    EVENT_DATA_LOADER_CONCURRENCY           = tostring(var.loader_concurrency)
    EVENT_DATA_DB_POOL_SIZE                 = tostring(var.db_pool_size)
    EVENT_DATA_SHUTDOWN_TIMEOUT_SECONDS     = tostring(var.shutdown_timeout_seconds)
    EVENT_DATA_LOG_LEVEL                    = var.log_level
    EVENT_DATA_RATE_LIMIT_PER_MINUTE        = tostring(var.rate_limit_per_minute)
    EVENT_DATA_EXPORT_CONCURRENCY           = tostring(var.export_concurrency)
    EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS = tostring(var.maintenance_interval_seconds)
    # Null keeps the service's default; null values are left out of the task definition.
    EVENT_DATA_MAX_BODY_BYTES = var.max_body_bytes == null ? null : tostring(var.max_body_bytes)
    # Named rather than found from the RedrivePolicy: the task role then needs no GetQueueUrl.
    EVENT_DATA_DLQ_URL = aws_sqs_queue.dlq.url
    # The load balancer's nodes live in the VPC; only they reach the tasks (security group).
    FORWARDED_ALLOW_IPS = local.vpc_cidr
    # The service assembles DATABASE_URL from these and DATABASE_USER below, and reads the
    # password from RDS's secret as connections open: RDS rotates it, and tasks follow.
    DATABASE_HOST                = aws_db_instance.this.address
    DATABASE_PORT                = tostring(local.db_port)
    DATABASE_NAME                = local.db_name
    DATABASE_PASSWORD_SECRET_ARN = aws_db_instance.this.master_user_secret[0].secret_arn
    # rds.force_ssl refuses plain connections; asyncpg reads libpq's variables. With the RDS CA
    # bundle baked into the image (database_ssl_root_cert_path), the server is verified too.
    PGSSLMODE     = local.db_ssl_verified ? "verify-full" : "require"
    PGSSLROOTCERT = local.db_ssl_verified ? var.database_ssl_root_cert_path : null
  }

  secrets = {
    DATABASE_USER                  = "${aws_db_instance.this.master_user_secret[0].secret_arn}:username::"
    EVENT_DATA_WEBHOOK_PASSWORD    = aws_secretsmanager_secret.this["webhook-password"].arn
    EVENT_DATA_OAUTH_CLIENT_SECRET = aws_secretsmanager_secret.this["oauth-client-secret"].arn
    EVENT_DATA_API_KEYS            = aws_secretsmanager_secret.this["api-keys"].arn
    EVENT_DATA_SIGNING_KEY         = aws_secretsmanager_secret.this["signing-key"].arn
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only; /tmp is the one writable place.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = local.image
      essential              = true
      readonlyRootFilesystem = true
      user                   = "10001:10001"
      stopTimeout            = var.stop_timeout_seconds
      portMappings           = [{ containerPort = local.container_port, protocol = "tcp" }]
      environment            = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] } if local.environment[k] != null]
      secrets                = [for k in sort(keys(local.secrets)) : { name = k, valueFrom = local.secrets[k] }]
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      linuxParameters        = { capabilities = { drop = ["ALL"] } }
      healthCheck = {
        command     = ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${local.container_port}/healthz', timeout=2)"]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 60
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.app.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "app"
        }
      }
    }
  ])

  lifecycle {
    precondition {
      condition     = var.stop_timeout_seconds > local.http_drain_seconds + var.shutdown_timeout_seconds
      error_message = "stop_timeout_seconds must exceed the 10 s HTTP drain plus shutdown_timeout_seconds, or ECS kills batches mid-load."
    }
  }
}

resource "aws_security_group" "tasks" {
  name_prefix = "${var.name}-tasks-"
  description = "Tasks: the service port from the load balancer"
  vpc_id      = local.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Service port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
  referenced_security_group_id = aws_security_group.alb.id
}

# Prometheus scrapes each task by IP (GET /metrics on the container port): the load balancer
# would hand every scrape to a different task. Nobody by default.
resource "aws_vpc_security_group_ingress_rule" "tasks_metrics" {
  for_each = toset(var.metrics_allowed_cidrs)

  security_group_id = aws_security_group.tasks.id
  description       = "Service port from a metrics scraper (metrics_allowed_cidrs)"
  ip_protocol       = "tcp"
  from_port         = local.container_port
  to_port           = local.container_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (endpoints, S3 gateway prefix list)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_db" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_ecs_service" "this" {
  name                               = var.name
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.min_tasks
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  # Load balancer health checks are ignored this long after a task starts: room for the image
  # pull, the migrations and the first healthy checks (see alb.tf's health check).
  health_check_grace_period_seconds = 180
  enable_execute_command            = false
  propagate_tags                    = "SERVICE"
  wait_for_steady_state             = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = local.container_name
    container_port   = local.container_port
  }

  # Autoscaling owns the count once the service runs.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener_rule.webhook, aws_iam_role_policy.task]
}
