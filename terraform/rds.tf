# PostgreSQL in the private subnets, reachable only from the tasks. RDS generates the master
# password and keeps it in Secrets Manager, rotating it. The task definition injects the
# secret's username; the service reads the password from the secret as it opens connections
# and assembles the URL itself (service/event_data/config.py, dbsecret.py).
# The service owns its schema (migrations, daily partitions), so it connects as the owner.

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = local.private_subnet_ids
}

resource "aws_security_group" "db" {
  name_prefix = "${var.name}-db-"
  description = "PostgreSQL from the tasks only"
  vpc_id      = local.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_tasks" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the tasks"
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name}-pg${local.db_major}-"
  family      = "postgres${local.db_major}"
  description = "event-data: TLS only, slow statements, lock waits and autovacuum logged"

  # Plain connections are refused; the tasks connect with PGSSLMODE=require.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # Statements are logged by duration only, never all of them: their parameters can hold
  # recipient addresses.
  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.db_log_min_duration_ms)
  }

  # Partitions are attached under a lock_timeout; waits and failed DDL should show.
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_autovacuum_min_duration"
    value = "10000"
  }

  parameter {
    name  = "log_temp_files"
    value = "10240"
  }

  # A task that dies mid-transaction must not hold locks (partition attach) for long.
  parameter {
    name  = "idle_in_transaction_session_timeout"
    value = "300000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_161:The service authenticates with the RDS-managed master password from Secrets Manager; IAM auth tokens would expire under a long-lived pool.
  identifier                  = var.name
  engine                      = "postgres"
  engine_version              = var.db_engine_version
  instance_class              = var.db_instance_class
  allocated_storage           = var.db_allocated_storage_gb
  max_allocated_storage       = var.db_max_allocated_storage_gb
  storage_type                = "gp3"
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.this.arn
  db_name                     = local.db_name
  port                        = local.db_port
  username                    = var.db_username
  manage_master_user_password = true
  # Keep the master secret under the stack's key too.
  master_user_secret_kms_key_id = aws_kms_key.this.arn

  multi_az               = var.db_multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = !var.db_final_snapshot
  final_snapshot_identifier = var.db_final_snapshot ? "${var.name}-final" : null

  auto_minor_version_upgrade            = true
  allow_major_version_upgrade           = false
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.this.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn

  lifecycle {
    precondition {
      condition     = var.db_max_allocated_storage_gb >= var.db_allocated_storage_gb
      error_message = "db_max_allocated_storage_gb must be at least db_allocated_storage_gb."
    }
  }
}
