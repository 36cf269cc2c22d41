output "lb_dns_name" {
  description = "DNS name of the load balancer (point domain_name at it if route53_zone_id is not set)."
  value       = aws_lb.this.dns_name
}

output "lb_webhook_url" {
  description = "The target URL of the SparkPost webhook."
  value       = "${local.public_url}/webhooks/sparkpost"
}

output "lb_oauth_token_url" {
  description = "The token URL of the SparkPost webhook's OAuth2 variant."
  value       = "${local.public_url}/oauth/token"
}

output "lb_query_url" {
  description = "The Events API base URL (reachable from query_allowed_cidrs only)."
  value       = "${local.public_url}/api/v1/events/message"
}

output "ecr_repository_url" {
  description = "Where to push the image (tag it with image_tag)."
  value       = aws_ecr_repository.this.repository_url
}

output "secretsmanager_secret_arns" {
  description = "The generated credentials: webhook-password, oauth-client-secret, api-keys, signing-key. Read with aws secretsmanager get-secret-value --secret-id ARN --query SecretString --output text."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "secretsmanager_secret_names" {
  description = "Names of the generated credentials' secrets."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.name }
}

output "webhook_user" {
  description = "HTTP basic user name of the webhook (the password is in the webhook-password secret)."
  value       = var.webhook_user
}

output "oauth_client_id" {
  description = "OAuth2 client id of the webhook (the secret is in the oauth-client-secret secret)."
  value       = var.oauth_client_id
}

output "db_instance_address" {
  description = "Host name of the PostgreSQL instance (private)."
  value       = aws_db_instance.this.address
}

output "db_instance_master_user_secret_arn" {
  description = "The RDS-managed secret holding the master user's name and password."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "s3_bucket_id" {
  description = "The archive bucket."
  value       = aws_s3_bucket.archive.id
}

output "sqs_queue_url" {
  description = "The batch queue."
  value       = aws_sqs_queue.batches.url
}

output "sqs_dlq_url" {
  description = "The dead-letter queue."
  value       = aws_sqs_queue.dlq.url
}

output "ecs_cluster_name" {
  description = "The ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "ecs_service_name" {
  description = "The ECS service."
  value       = aws_ecs_service.this.name
}

output "cloudwatch_log_group_name" {
  description = "The service's logs."
  value       = aws_cloudwatch_log_group.app.name
}

output "sns_topic_arn" {
  description = "The alarm topic (subscribe more endpoints to it)."
  value       = aws_sns_topic.alarms.arn
}

output "vpc_id" {
  description = "The VPC the stack runs in."
  value       = local.vpc_id
}
