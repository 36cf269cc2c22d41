# Every variable is typed, described and validated; for the booleans the type is the validation,
# and null is refused (nullable = false).
# ---------------------------------------------------------------------------------------------
# Naming and placement
# ---------------------------------------------------------------------------------------------
variable "name" {
  description = "Name prefix of every resource (lower case, digits, hyphens)."
  type        = string
  default     = "event-data"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name must be 2-20 characters: lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "tags" {
  description = "Extra tags for every resource (Project and Stack are always set)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys are at most 128 characters, values at most 256."
  }
}

# ---------------------------------------------------------------------------------------------
# Network: a new VPC, or an existing one
# ---------------------------------------------------------------------------------------------
variable "vpc_id" {
  description = "An existing VPC to deploy into. Null creates a new VPC over az_count zones."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123abcd, or be null."
  }
}

variable "public_subnet_ids" {
  description = "With vpc_id: at least two public subnets (different zones) for the load balancer."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.public_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "public_subnet_ids must be subnet ids (subnet-...)."
  }
}

variable "private_subnet_ids" {
  description = "With vpc_id: at least two private subnets (different zones) for the tasks and the database."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "private_subnet_ids must be subnet ids (subnet-...)."
  }
}

variable "private_route_table_ids" {
  description = "With vpc_id: the private subnets' route tables, which get the S3 gateway endpoint."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.private_route_table_ids : can(regex("^rtb-[0-9a-f]+$", id))])
    error_message = "private_route_table_ids must be route table ids (rtb-...)."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the new VPC (ignored with vpc_id). Subnets are /20s carved from it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 18
    error_message = "vpc_cidr must be an IPv4 CIDR block of /18 or larger."
  }
}

variable "az_count" {
  description = "Availability zones the new VPC spans (ignored with vpc_id)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "az_count must be 2, 3 or 4."
  }
}

variable "create_vpc_endpoints" {
  description = "Reach S3, SQS, Secrets Manager, ECR and CloudWatch Logs through VPC endpoints (the private subnets have no NAT). Turn off only for an existing VPC that routes out through NAT."
  type        = bool
  nullable    = false
  default     = true
}

# ---------------------------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------------------------
variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener (covering domain_name). Null only together with allow_plain_http, for testing."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN, or null."
  }
}

variable "allow_plain_http" {
  description = "Serve the application over plain HTTP on port 80 when no certificate is given. For testing only: credentials would travel in clear."
  type        = bool
  nullable    = false
  default     = false
}

variable "domain_name" {
  description = "The public host name (e.g. events.example.com). Null uses the load balancer's DNS name."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain_name))
    error_message = "domain_name must be a lower-case DNS name, or null."
  }
}

variable "route53_zone_id" {
  description = "A Route 53 hosted zone in which to create domain_name as an alias of the load balancer. Null creates no record."
  type        = string
  default     = null

  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]+$", var.route53_zone_id))
    error_message = "route53_zone_id must be a hosted zone id (Z...), or null."
  }
}

variable "webhook_allowed_cidrs" {
  description = "Who may reach the load balancer at all (the webhook and OAuth token paths). SparkPost posts from the A records of wh.egress.sparkpost.com; the default admits everyone, as webhook credentials guard the path."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.webhook_allowed_cidrs) >= 1 && alltrue([for c in var.webhook_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "webhook_allowed_cidrs must hold at least one IPv4 CIDR block."
  }
}

variable "query_allowed_cidrs" {
  description = "The internal networks allowed to the query API (/api/*), /openapi.json and /metrics, on top of API keys. Requests from elsewhere get 404. They must also be inside webhook_allowed_cidrs."
  type        = list(string)

  validation {
    condition     = length(var.query_allowed_cidrs) <= 40 && alltrue([for c in var.query_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "query_allowed_cidrs must be at most 40 IPv4 CIDR blocks."
  }
}

variable "metrics_allowed_cidrs" {
  description = "Networks (in the VPC or routed to it) whose Prometheus scraper may reach every task's /metrics directly on the container port, by task IP. Through the load balancer each scrape lands on a different task. Empty admits nobody."
  type        = list(string)
  nullable    = false
  default     = []

  validation {
    condition     = length(var.metrics_allowed_cidrs) <= 20 && alltrue([for c in var.metrics_allowed_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "metrics_allowed_cidrs must be at most 20 IPv4 CIDR blocks, not 0.0.0.0/0."
  }
}

variable "alb_deletion_protection" {
  description = "Protect the load balancer from deletion."
  type        = bool
  nullable    = false
  default     = true
}

variable "alb_access_logs_bucket" {
  description = "An existing S3 bucket (with the ELB log delivery policy) for the load balancer's access logs. Null keeps no access logs."
  type        = string
  default     = null

  validation {
    condition     = var.alb_access_logs_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.alb_access_logs_bucket))
    error_message = "alb_access_logs_bucket must be an S3 bucket name, or null."
  }
}

# ---------------------------------------------------------------------------------------------
# Service (ECS Fargate)
# ---------------------------------------------------------------------------------------------
variable "image_tag" {
  description = "Tag of the image in this stack's ECR repository (tags are immutable: use a version or a commit id)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid image tag other than latest."
  }
}

variable "task_cpu" {
  description = "CPU units of one task (1024 = one vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be 256, 512, 1024, 2048 or 4096."
  }
}

variable "task_memory" {
  description = "Memory of one task in MiB (within Fargate's range for task_cpu)."
  type        = number
  default     = 2048

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 30720 && var.task_memory % 512 == 0
    error_message = "task_memory must be a multiple of 512 between 512 and 30720."
  }
}

variable "min_tasks" {
  description = "Fewest running tasks (also the initial desired count)."
  type        = number
  default     = 2

  validation {
    condition     = var.min_tasks >= 1 && var.min_tasks <= 50 && floor(var.min_tasks) == var.min_tasks
    error_message = "min_tasks must be a whole number from 1 to 50."
  }
}

variable "max_tasks" {
  description = "Most running tasks autoscaling may reach (at least min_tasks)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_tasks >= 1 && var.max_tasks <= 100 && floor(var.max_tasks) == var.max_tasks
    error_message = "max_tasks must be a whole number from 1 to 100."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation the service scales to keep."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "backlog_per_task_target" {
  description = "Visible queue messages (batches waiting to load) per running task that the service scales to keep."
  type        = number
  default     = 20

  validation {
    condition     = var.backlog_per_task_target >= 1 && var.backlog_per_task_target <= 10000
    error_message = "backlog_per_task_target must be between 1 and 10000."
  }
}

variable "stop_timeout_seconds" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL; must exceed the service's 10 s HTTP drain plus shutdown_timeout_seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120 (Fargate's limits)."
  }
}

variable "shutdown_timeout_seconds" {
  description = "EVENT_DATA_SHUTDOWN_TIMEOUT_SECONDS: grace for in-flight batches on SIGTERM, after the HTTP drain."
  type        = number
  default     = 15

  validation {
    condition     = var.shutdown_timeout_seconds >= 1 && var.shutdown_timeout_seconds <= 100
    error_message = "shutdown_timeout_seconds must be between 1 and 100."
  }
}

variable "retention_days" {
  description = "EVENT_DATA_RETENTION_DAYS: events older than this are not loaded (they stay in the archive); 0 keeps everything."
  type        = number
  default     = 365

  validation {
    condition     = var.retention_days >= 0 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number, 0 or more."
  }
}

variable "loader_concurrency" {
  description = "EVENT_DATA_LOADER_CONCURRENCY: batches loaded at once per task."
  type        = number
  default     = 4

  validation {
    condition     = var.loader_concurrency >= 1 && var.loader_concurrency <= 32
    error_message = "loader_concurrency must be between 1 and 32."
  }
}

variable "db_pool_size" {
  description = "EVENT_DATA_DB_POOL_SIZE: PostgreSQL connections per task (plus as many overflow). max_tasks x 2 x this must stay under the instance's max_connections."
  type        = number
  default     = 10

  validation {
    condition     = var.db_pool_size >= 1 && var.db_pool_size <= 100
    error_message = "db_pool_size must be between 1 and 100."
  }
}

variable "log_level" {
  description = "EVENT_DATA_LOG_LEVEL."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warning", "error"], var.log_level)
    error_message = "log_level must be debug, info, warning or error."
  }
}

variable "rate_limit_per_minute" {
  description = "EVENT_DATA_RATE_LIMIT_PER_MINUTE: query API requests a minute per API key, per task (429 beyond); 0 is off."
  type        = number
  nullable    = false
  default     = 0

  validation {
    condition     = var.rate_limit_per_minute >= 0 && var.rate_limit_per_minute <= 1000000 && floor(var.rate_limit_per_minute) == var.rate_limit_per_minute
    error_message = "rate_limit_per_minute must be a whole number from 0 (off) to 1000000."
  }
}

variable "export_concurrency" {
  description = "EVENT_DATA_EXPORT_CONCURRENCY: exports streaming at once per task (503 beyond)."
  type        = number
  nullable    = false
  default     = 4

  validation {
    condition     = var.export_concurrency >= 1 && var.export_concurrency <= 100 && floor(var.export_concurrency) == var.export_concurrency
    error_message = "export_concurrency must be a whole number from 1 to 100."
  }
}

variable "maintenance_interval_seconds" {
  description = "EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS: seconds between maintenance rounds (partitions ahead, retention, gauges); 0 turns maintenance off."
  type        = number
  nullable    = false
  default     = 300

  validation {
    condition     = var.maintenance_interval_seconds == 0 || (var.maintenance_interval_seconds >= 10 && var.maintenance_interval_seconds <= 86400)
    error_message = "maintenance_interval_seconds must be 0 (off) or between 10 and 86400."
  }
}

variable "max_body_bytes" {
  description = "EVENT_DATA_MAX_BODY_BYTES: webhook body cap in bytes (413 beyond). Null keeps the service's default (25 MiB)."
  type        = number
  default     = null

  validation {
    condition     = var.max_body_bytes == null || (var.max_body_bytes >= 1024 && var.max_body_bytes <= 1073741824 && floor(var.max_body_bytes) == var.max_body_bytes)
    error_message = "max_body_bytes must be a whole number of bytes from 1024 to 1073741824 (1 GiB), or null."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the service's logs (and the VPC flow logs)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's retention periods (1, 3, 5, 7, 14, 30, ... 365, ... 3653)."
  }
}

variable "ecr_keep_images" {
  description = "Images the ECR repository keeps (older ones expire)."
  type        = number
  default     = 50

  validation {
    condition     = var.ecr_keep_images >= 5 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be between 5 and 1000."
  }
}

# ---------------------------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------------------------
variable "webhook_user" {
  description = "HTTP basic user name SparkPost sends with each batch (the password is generated)."
  type        = string
  default     = "sparkpost"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.webhook_user))
    error_message = "webhook_user must be 1-64 letters, digits, dots, underscores or hyphens."
  }
}

variable "oauth_client_id" {
  description = "OAuth2 client id SparkPost presents to /oauth/token (the secret is generated)."
  type        = string
  default     = "sparkpost"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.oauth_client_id))
    error_message = "oauth_client_id must be 1-64 letters, digits, dots, underscores or hyphens."
  }
}

variable "api_key_count" {
  description = "Query API keys to generate (give one to each consuming team or tool)."
  type        = number
  default     = 1

  validation {
    condition     = var.api_key_count >= 1 && var.api_key_count <= 20 && floor(var.api_key_count) == var.api_key_count
    error_message = "api_key_count must be a whole number from 1 to 20."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once)."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

# ---------------------------------------------------------------------------------------------
# Database (RDS PostgreSQL)
# ---------------------------------------------------------------------------------------------
variable "db_engine_version" {
  description = "PostgreSQL version: a major (16, 17: the newest minor) or a major.minor."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^(16|17)(\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be 16 or 17, optionally with a minor version (17.4)."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "db_allocated_storage_gb" {
  description = "Initial storage in GiB (gp3)."
  type        = number
  default     = 50

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 65536
    error_message = "db_allocated_storage_gb must be between 20 and 65536."
  }
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB (at least db_allocated_storage_gb)."
  type        = number
  default     = 1000

  validation {
    condition     = var.db_max_allocated_storage_gb >= 20 && var.db_max_allocated_storage_gb <= 65536
    error_message = "db_max_allocated_storage_gb must be between 20 and 65536."
  }
}

variable "db_multi_az" {
  description = "Run a standby in a second zone."
  type        = bool
  nullable    = false
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "db_deletion_protection" {
  description = "Protect the database from deletion."
  type        = bool
  nullable    = false
  default     = true
}

variable "db_final_snapshot" {
  description = "Take a final snapshot when the database is destroyed."
  type        = bool
  nullable    = false
  default     = true
}

variable "db_username" {
  description = "Master user name; its password is generated and kept by RDS in Secrets Manager."
  type        = string
  default     = "event_data"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_username)) && !contains(["postgres", "rdsadmin", "admin"], var.db_username)
    error_message = "db_username must be a lower-case identifier, not a reserved name."
  }
}

variable "db_log_min_duration_ms" {
  description = "log_min_duration_statement: statements slower than this are logged (-1 turns it off)."
  type        = number
  default     = 1000

  validation {
    condition     = var.db_log_min_duration_ms >= -1
    error_message = "db_log_min_duration_ms must be -1 or more."
  }
}

variable "database_ssl_root_cert_path" {
  description = "Path inside the image of the RDS CA bundle (global-bundle.pem, baked in from certs/ at build time, e.g. /app/certs/global-bundle.pem). Set: PGSSLMODE=verify-full with PGSSLROOTCERT, so the tasks check the server's certificate and name. Empty: PGSSLMODE=require (encrypted, not verified)."
  type        = string
  nullable    = false
  default     = ""

  validation {
    condition     = var.database_ssl_root_cert_path == "" || can(regex("^/[A-Za-z0-9._/-]+$", var.database_ssl_root_cert_path))
    error_message = "database_ssl_root_cert_path must be empty or an absolute path (letters, digits, . _ - /)."
  }
}

# ---------------------------------------------------------------------------------------------
# Archive (S3) and queue (SQS)
# ---------------------------------------------------------------------------------------------
variable "archive_bucket_name" {
  description = "Name of the archive bucket. Null derives a unique one from name, account and region."
  type        = string
  default     = null

  validation {
    condition     = var.archive_bucket_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.archive_bucket_name))
    error_message = "archive_bucket_name must be a DNS-style bucket name (no dots), or null."
  }
}

variable "archive_prefix" {
  description = "EVENT_DATA_ARCHIVE_PREFIX: key prefix of archived batches; the notification and the task role are scoped to it."
  type        = string
  default     = "batches/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.archive_prefix))
    error_message = "archive_prefix must be a plain key prefix ending with /, such as batches/."
  }
}

variable "archive_transition_days" {
  description = "Days after which archived batches move to archive_transition_storage_class (0: never)."
  type        = number
  default     = 30

  validation {
    condition     = var.archive_transition_days == 0 || var.archive_transition_days >= 30
    error_message = "archive_transition_days must be 0 or at least 30 (S3's minimum for infrequent-access classes)."
  }
}

variable "archive_transition_storage_class" {
  description = "Storage class archived batches move to. Replays read from it, so prefer classes with instant retrieval."
  type        = string
  default     = "STANDARD_IA"

  validation {
    condition     = contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.archive_transition_storage_class)
    error_message = "archive_transition_storage_class must be an S3 storage class for lifecycle transitions."
  }
}

variable "archive_expiration_days" {
  description = "Days after which archived batches are deleted (0: kept for ever). The archive is the system of record: keep it at least as long as retention_days."
  type        = number
  default     = 0

  validation {
    condition     = var.archive_expiration_days >= 0 && floor(var.archive_expiration_days) == var.archive_expiration_days
    error_message = "archive_expiration_days must be a whole number, 0 or more."
  }
}

variable "archive_noncurrent_expiration_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 30

  validation {
    condition     = var.archive_noncurrent_expiration_days >= 1
    error_message = "archive_noncurrent_expiration_days must be at least 1."
  }
}

variable "max_batch_load_seconds" {
  description = "The longest a single batch takes to load; the queue's visibility timeout must exceed it."
  type        = number
  default     = 120

  validation {
    condition     = var.max_batch_load_seconds >= 1 && var.max_batch_load_seconds <= 43199
    error_message = "max_batch_load_seconds must be between 1 and 43199."
  }
}

variable "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the batch queue (the loader also extends it while a batch loads)."
  type        = number
  default     = 300

  validation {
    condition     = var.queue_visibility_timeout_seconds >= 0 && var.queue_visibility_timeout_seconds <= 43200
    error_message = "queue_visibility_timeout_seconds must be between 0 and 43200 (SQS's limit)."
  }
}

variable "queue_max_receive_count" {
  description = "Receives of a batch notification before it moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.queue_max_receive_count >= 1 && var.queue_max_receive_count <= 1000
    error_message = "queue_max_receive_count must be between 1 and 1000."
  }
}

variable "queue_message_retention_seconds" {
  description = "How long the queue and the dead-letter queue keep messages (a database outage may last this long without a replay)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.queue_message_retention_seconds >= 60 && var.queue_message_retention_seconds <= 1209600
    error_message = "queue_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

# ---------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------
variable "alarm_email" {
  description = "An address subscribed to the alarm topic (confirm the subscription mail). Null subscribes nobody."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an email address, or null."
  }
}

variable "alarm_queue_age_seconds" {
  description = "Alarm when the oldest unloaded batch notification is older than this."
  type        = number
  default     = 900

  validation {
    condition     = var.alarm_queue_age_seconds >= 60
    error_message = "alarm_queue_age_seconds must be at least 60."
  }
}

variable "alarm_5xx_per_5_minutes" {
  description = "Alarm when the load balancer and the targets answer more 5xx than this in 5 minutes."
  type        = number
  default     = 10

  validation {
    condition     = var.alarm_5xx_per_5_minutes >= 0
    error_message = "alarm_5xx_per_5_minutes must be 0 or more."
  }
}

variable "alarm_db_free_storage_bytes" {
  description = "Alarm when the database's free storage falls below this."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.alarm_db_free_storage_bytes >= 1073741824
    error_message = "alarm_db_free_storage_bytes must be at least 1 GiB."
  }
}

variable "alarm_db_cpu_percent" {
  description = "Alarm when the database's CPU stays above this for 15 minutes."
  type        = number
  default     = 80

  validation {
    condition     = var.alarm_db_cpu_percent >= 10 && var.alarm_db_cpu_percent <= 100
    error_message = "alarm_db_cpu_percent must be between 10 and 100."
  }
}
