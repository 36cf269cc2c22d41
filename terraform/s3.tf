# The archive: every raw batch, the system of record. Versioned, encrypted with the stack's key,
# private, TLS only; each new object under the archive prefix is announced to the queue.

resource "aws_s3_bucket" "archive" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket per stack; object-level access can be audited with CloudTrail data events on this bucket.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice with its own bucket, region and cost; not made for every stack.
  bucket = local.bucket_name
}

resource "aws_s3_bucket_ownership_controls" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "archive" {
  bucket                  = aws_s3_bucket.archive.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "archive" {
  bucket = aws_s3_bucket.archive.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    # A bucket key keeps KMS requests (and their cost) to a few per object batch.
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    id     = "archive"
    status = "Enabled"

    filter {
      prefix = var.archive_prefix
    }

    dynamic "transition" {
      for_each = var.archive_transition_days > 0 ? [1] : []
      content {
        days          = var.archive_transition_days
        storage_class = var.archive_transition_storage_class
      }
    }

    dynamic "expiration" {
      for_each = var.archive_expiration_days > 0 ? [1] : []
      content {
        days = var.archive_expiration_days
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.archive_noncurrent_expiration_days
    }
  }

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.archive]

  lifecycle {
    precondition {
      condition     = var.archive_expiration_days == 0 || var.archive_expiration_days > var.archive_transition_days
      error_message = "archive_expiration_days must be 0 (keep) or later than archive_transition_days."
    }
    precondition {
      condition     = var.archive_expiration_days == 0 || var.retention_days == 0 || var.archive_expiration_days >= var.retention_days
      error_message = "The archive is the system of record: archive_expiration_days must be 0 or at least retention_days."
    }
  }
}

resource "aws_s3_bucket_policy" "archive" {
  bucket = aws_s3_bucket.archive.id
  policy = data.aws_iam_policy_document.archive.json

  depends_on = [aws_s3_bucket_public_access_block.archive]
}

data "aws_iam_policy_document" "archive" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.archive.arn,
      "${aws_s3_bucket.archive.arn}/*",
    ]

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

resource "aws_s3_bucket_notification" "archive" {
  bucket = aws_s3_bucket.archive.id

  queue {
    id            = "archived-batches"
    queue_arn     = aws_sqs_queue.batches.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = var.archive_prefix
  }

  # S3 checks that it may send to the queue when the notification is created.
  depends_on = [aws_sqs_queue_policy.batches]
}
