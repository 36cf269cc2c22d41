# The credentials the service checks, generated here and kept in Secrets Manager under the
# stack's key. Terraform's state holds them too: keep the state in an encrypted backend.
# Read one with: aws secretsmanager get-secret-value --secret-id <arn> --query SecretString
# (terraform output secretsmanager_secret_arns lists them).

resource "random_password" "webhook" {
  length  = 40
  special = false
}

resource "random_password" "oauth_client_secret" {
  length  = 48
  special = false
}

resource "random_password" "api_key" {
  count   = var.api_key_count
  length  = 40
  special = false
}

resource "random_password" "signing_key" {
  length  = 64
  special = false
}

locals {
  secret_values = {
    "webhook-password"    = random_password.webhook.result
    "oauth-client-secret" = random_password.oauth_client_secret.result
    "api-keys"            = join(",", random_password.api_key[*].result)
    "signing-key"         = random_password.signing_key.result
  }
  secret_descriptions = {
    "webhook-password"    = "HTTP basic password SparkPost sends (user: webhook_user)"
    "oauth-client-secret" = "OAuth2 client secret for /oauth/token (client id: oauth_client_id)"
    "api-keys"            = "Comma-separated query API keys (Authorization header)"
    "signing-key"         = "Signs OAuth tokens and query cursors; the same on every task"
  }
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:These are shared with SparkPost and API clients, which must be updated in the same step; rotation is the runbook's operator step (terraform apply -replace=random_password.X, then update the webhook), not a Lambda's.
  for_each = local.secret_descriptions

  name                    = "${var.name}/${each.key}"
  description             = each.value
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "this" {
  for_each = local.secret_descriptions

  secret_id     = aws_secretsmanager_secret.this[each.key].id
  secret_string = local.secret_values[each.key]
}
