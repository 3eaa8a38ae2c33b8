# A shop split over three namespaces, with staging and prod environments:
# the storefront and API in "shop", payments in "payments", shared search
# in "search". Routes live next to the storefront and reach across
# namespaces (ReferenceGrants are generated), services call each other
# (both policy halves are generated), and egress is closed by default.

perimeter {
  stack = "shop"
}

variable "domain" {
  type        = string
  description = "The public DNS zone of this environment."
}

variable "canary_weight" {
  type    = number
  default = 0
}

variable "payment_provider" {
  type    = string
  default = "203.0.113.0/24"
}

environment "staging" {
  variables = {
    domain        = "staging.example.com"
    canary_weight = 50
  }
}

environment "prod" {
  variables = {
    domain        = "example.com"
    canary_weight = 5
  }
}

locals {
  api_host = "api.${var.domain}"
  www_host = "www.${var.domain}"
}

gateway "public" {
  namespace      = "infra"
  implementation = "istio"

  manage {
    class = "istio"

    listener "http" {
      protocol = "HTTP"
      port     = 80
      hostname = "*.${var.domain}"
    }

    listener "https" {
      protocol     = "HTTPS"
      port         = 443
      hostname     = "*.${var.domain}"
      certificates = ["wildcard-${replace(var.domain, ".", "-")}"]
    }
  }
}

namespace "shop" {
  default_deny = ["ingress", "egress"]
}

namespace "payments" {
  default_deny = ["ingress", "egress"]
}

namespace "search" {
  default_deny = ["ingress"]
}

service "storefront" {
  namespace   = namespace.shop
  selector    = { app = "storefront" }
  port        = 80
  target_port = "http"
}

service "orders" {
  namespace   = "shop"
  selector    = { app = "orders", track = "stable" }
  port        = 80
  target_port = 8080
}

service "orders_canary" {
  name        = "orders-canary"
  namespace   = "shop"
  selector    = { app = "orders", track = "canary" }
  port        = 80
  target_port = 8080
}

service "payments" {
  namespace   = "payments"
  selector    = { app = "payments" }
  port        = 443
  target_port = 8443
}

service "search" {
  namespace = "search"
  selector  = { app = "search" }
  port      = 9200

  # search serves TLS only: the gateway validates its certificate
  backend_tls {
    hostname        = "search.search.svc.cluster.local"
    ca_certificates = ["search-ca"]
    port_name       = "https"
  }
}

route "https_redirect" {
  name      = "https-redirect"
  namespace = "shop"
  gateway   = gateway.public
  listener  = "http"
  hostnames = [local.api_host, local.www_host]

  rule {
    redirect {
      scheme = "https"
      status = 301
    }
  }
}

route "www" {
  gateway   = gateway.public
  listener  = "https"
  hostnames = [local.www_host]

  rule {
    path    = "/"
    backend = service.storefront
  }
}

route "api" {
  namespace = "shop"
  gateway   = gateway.public
  listener  = "https"
  hostnames = [local.api_host]

  rule {
    path = "/orders"
    backends = [
      { service = service.orders, weight = 100 - var.canary_weight },
      { service = service.orders_canary, weight = var.canary_weight },
    ]
    timeout = "10s"

    # the storefront's pages call the API from the browser
    cors {
      allow_origins     = ["https://${local.www_host}"]
      allow_methods     = ["GET", "POST"]
      allow_headers     = ["Content-Type", "Authorization"]
      expose_headers    = ["X-Request-Id"]
      allow_credentials = true
      max_age           = 600
    }
  }

  rule {
    path   = "/search"
    method = "GET"
    rewrite {
      prefix = "/_search"
    }
    backend = service.search
  }

  rule {
    path      = "/orders/beta"
    path_type = "exact"
    headers   = { "x-canary" = "always" }
    backend   = service.orders_canary
  }
}

allow "storefront calls orders" {
  from = service.storefront
  to   = [service.orders, service.orders_canary]
}

allow "orders charge payments" {
  from = [service.orders, service.orders_canary]
  to   = service.payments
}

allow "payments reach the provider" {
  from  = service.payments
  to    = cidr(var.payment_provider)
  ports = ["443/tcp"]
}

allow "monitoring scrapes the shop" {
  from  = namespaces({ "kubernetes.io/metadata.name" = "monitoring" })
  to    = namespace.shop
  ports = ["9090/tcp"]
}

check "payments cannot reach the internet" {
  from   = service.payments
  to     = cidr("8.8.8.8/32")
  port   = "443/tcp"
  expect = "deny"
}
