# The archive's ObjectCreated notifications, one message per batch, and the dead-letter queue
# where a batch that cannot be loaded lands after queue_max_receive_count receives.

resource "aws_sqs_queue" "dlq" {
  name                              = "${var.name}-batches-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 3600
}

resource "aws_sqs_queue" "batches" {
  name                              = "${var.name}-batches"
  visibility_timeout_seconds        = var.queue_visibility_timeout_seconds
  message_retention_seconds         = var.queue_message_retention_seconds
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 3600

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.queue_max_receive_count
  })

  lifecycle {
    # A message that reappears while its batch still loads is loaded twice at once: harmless
    # (loads are idempotent) but wasted, and it counts towards maxReceiveCount.
    precondition {
      condition     = var.queue_visibility_timeout_seconds > var.max_batch_load_seconds
      error_message = "queue_visibility_timeout_seconds must be longer than max_batch_load_seconds."
    }
  }
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.batches.arn]
  })
}

resource "aws_sqs_queue_policy" "batches" {
  queue_url = aws_sqs_queue.batches.id
  policy    = data.aws_iam_policy_document.batches_queue.json
}

data "aws_iam_policy_document" "batches_queue" {
  statement {
    sid       = "ArchiveBucketNotifies"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.batches.arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.archive.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.batches.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The DLQ holds the same notifications: TLS only, as for the main queue. Only the queue's
# redrive and the account's IAM principals (the operator's dlq commands) use it.
resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq_queue.json
}

data "aws_iam_policy_document" "dlq_queue" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
