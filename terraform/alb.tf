# The public entry: HTTPS (plain HTTP only when allow_plain_http says so), HTTP redirected to
# HTTPS. SparkPost reaches the webhook and OAuth token paths; the query API, /openapi.json and
# /metrics answer only to query_allowed_cidrs; anything else gets a 404.

locals {
  # The service ignores a trailing slash (as SparkPost's API does), so the load balancer must
  # forward both spellings: a webhook target ending in / would get the listener's 404 otherwise.
  webhook_paths = ["/webhooks/sparkpost", "/webhooks/sparkpost/", "/oauth/token", "/oauth/token/"]
  query_paths   = ["/api/*", "/openapi.json", "/metrics"]

  # An ALB rule holds at most five condition values: one path and four source CIDRs per rule.
  query_cidr_chunks = chunklist(var.query_allowed_cidrs, 4)
  query_rules = flatten([
    for p, path in local.query_paths : [
      for c, cidrs in local.query_cidr_chunks : {
        path     = path
        cidrs    = cidrs
        priority = 100 + p * 20 + c
      }
    ]
  ])

  app_listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
  not_found_body   = jsonencode({ errors = [{ message = "Not found", code = "404" }] })
}

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "Load balancer: HTTP and HTTPS from the allowed networks"
  vpc_id      = local.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = local.https ? toset(var.webhook_allowed_cidrs) : toset([])

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:Port 80 only answers with a redirect to HTTPS (plain HTTP needs allow_plain_http, for testing); webhook_allowed_cidrs narrows it.
  for_each = toset(var.webhook_allowed_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = local.https ? "HTTP, redirected to HTTPS" : "HTTP (allow_plain_http)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the tasks' port"
  ip_protocol                  = "tcp"
  from_port                    = local.container_port
  to_port                      = local.container_port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:No WAF by default: the webhook path needs credentials, the query paths an allow-listed network and an API key; attach a web ACL with aws_wafv2_web_acl_association if wanted.
  #checkov:skip=CKV_AWS_91:Access logs go to an operator-chosen bucket (alb_access_logs_bucket) that needs the ELB delivery policy; null keeps none rather than forcing a second bucket into every stack.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = local.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection
  # SparkPost's batches are posted within its 10 s timeout; long query pages take longer.
  idle_timeout = 120

  dynamic "access_logs" {
    for_each = var.alb_access_logs_bucket == null ? [] : [var.alb_access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }

  lifecycle {
    precondition {
      condition     = var.certificate_arn != null || var.allow_plain_http
      error_message = "Give certificate_arn for HTTPS, or set allow_plain_http = true (testing only)."
    }
    precondition {
      condition     = local.create_vpc || (length(var.public_subnet_ids) >= 2 && length(var.private_subnet_ids) >= 2)
      error_message = "With vpc_id, give at least two public_subnet_ids and two private_subnet_ids, in different zones."
    }
    precondition {
      condition     = local.create_vpc || !var.create_vpc_endpoints || length(var.private_route_table_ids) >= 1
      error_message = "With vpc_id and create_vpc_endpoints, give private_route_table_ids for the S3 gateway endpoint."
    }
  }
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the tasks stays inside the VPC's private subnets, and only the load balancer's security group reaches the tasks.
  name_prefix = "evd-"
  port        = local.container_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = local.vpc_id
  # ECS sends SIGTERM only once the target is drained; webhooks finish well inside 15 s.
  deregistration_delay = 15

  # /readyz also fails while the database is unreachable. A target is marked unhealthy (and
  # ECS replaces its task) only after 10 failed checks 20 s apart, 200 s: longer than an RDS
  # Multi-AZ failover or reboot (60-120 s), so a database blip does not replace every task,
  # whose replacements would then fail their start-up migration against the same outage.
  # Two passing checks (40 s) make a new task healthy. See the README's "Health check".
  health_check {
    path                = "/readyz"
    matcher             = "200"
    interval            = 20
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 10
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = local.not_found_body
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Port 80 only redirects to HTTPS, unless allow_plain_http is set for testing (its precondition requires the choice).
  #checkov:skip=CKV_AWS_103:As above: TLS applies to the HTTPS listener.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = local.https ? "redirect" : "fixed-response"

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }

    dynamic "fixed_response" {
      for_each = local.https ? [] : [1]
      content {
        content_type = "application/json"
        message_body = local.not_found_body
        status_code  = "404"
      }
    }
  }
}

resource "aws_lb_listener_rule" "webhook" {
  listener_arn = local.app_listener_arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  condition {
    path_pattern {
      values = local.webhook_paths
    }
  }
}

resource "aws_lb_listener_rule" "query" {
  count = length(local.query_rules)

  listener_arn = local.app_listener_arn
  priority     = local.query_rules[count.index].priority

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  condition {
    path_pattern {
      values = [local.query_rules[count.index].path]
    }
  }

  condition {
    source_ip {
      values = local.query_rules[count.index].cidrs
    }
  }
}

resource "aws_route53_record" "this" {
  count = var.route53_zone_id != null && var.domain_name != null ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = false
  }
}
