# Two roles per task, as ECS separates them: the execution role (pull the image, fetch the
# injected secrets, write logs) and the task role (what the service itself calls), both scoped
# to this stack's resources. The calls `event-data serve` makes, from service/event_data/:
#   S3   PutObject (webhook archive), GetObject (loader), HeadBucket (readyz: s3:ListBucket)
#   SQS  batch queue: ReceiveMessage, DeleteMessage, ChangeMessageVisibility (loader heartbeat
#        and release), GetQueueAttributes (readyz, the loader reading the visibility timeout)
#        DLQ: GetQueueAttributes (the maintenance round's DLQ depth gauge). The task is given
#        EVENT_DATA_DLQ_URL, so the GetQueueUrl the service falls back on is never called.
#   Secrets Manager  GetSecretValue on RDS's master secret (the password, as connections open)
# Other `event-data` commands (such as listing or redriving the DLQ) are run by an operator with
# their own credentials, not by the task: the task role cannot receive from or send to the DLQ.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Execution role
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "execution" {
  name_prefix        = "${var.name}-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-secrets-logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuthorization"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the action has no resource-level permissions
  }

  statement {
    sid       = "EcrPullThisRepository"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [aws_ecr_repository.this.arn]
  }

  statement {
    sid       = "WriteServiceLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }

  statement {
    sid     = "ReadInjectedSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = concat(
      [for s in aws_secretsmanager_secret.this : s.arn],
      [aws_db_instance.this.master_user_secret[0].secret_arn],
    )
  }

  statement {
    sid       = "DecryptInjectedSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Task role
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "task" {
  name_prefix        = "${var.name}-task-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "task" {
  name   = "archive-and-queue"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ArchiveWriteAndRead"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.archive.arn}/${var.archive_prefix}*"]
  }

  # HeadBucket (readyz) is authorised as s3:ListBucket on the bucket.
  statement {
    sid       = "ArchiveReachable"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.archive.arn]
  }

  statement {
    sid = "ConsumeBatchQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.batches.arn]
  }

  # The DLQ depth gauge (event_data_dlq_messages): attributes only, never its messages.
  statement {
    sid       = "ReadDlqDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  # RDS rotates the master password; the service reads it when it opens a connection.
  statement {
    sid       = "ReadDatabasePassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_db_instance.this.master_user_secret[0].secret_arn]
  }

  # SSE-KMS: S3 encrypts new archive objects and decrypts them for the loader; SQS decrypts
  # the notifications it delivers; Secrets Manager decrypts the database secret.
  statement {
    sid       = "UseStackKeyThroughServices"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.this.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${local.region}.amazonaws.com",
        "sqs.${local.region}.amazonaws.com",
        "secretsmanager.${local.region}.amazonaws.com",
      ]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Service roles: VPC flow logs and RDS enhanced monitoring
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "flow" {
  count              = local.create_vpc ? 1 : 0
  name_prefix        = "${var.name}-flow-"
  assume_role_policy = data.aws_iam_policy_document.flow_assume.json
}

data "aws_iam_policy_document" "flow_assume" {
  statement {
    sid     = "FlowLogsAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "flow" {
  count  = local.create_vpc ? 1 : 0
  name   = "write-flow-logs"
  role   = aws_iam_role.flow[0].id
  policy = data.aws_iam_policy_document.flow[0].json
}

data "aws_iam_policy_document" "flow" {
  count = local.create_vpc ? 1 : 0

  statement {
    sid       = "WriteFlowLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow[0].arn}:*"]
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name_prefix        = "${var.name}-rdsmon-"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    sid     = "RdsMonitoringAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
