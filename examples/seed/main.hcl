# The seed scenario: one public host routed to two services through an
# existing gateway, one backend whose egress is limited to a payment
# provider, and one workload that may send nothing out at all.

perimeter {
  stack = "seed"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "shop" {
  default_deny = ["ingress"]
}

service "users" {
  name        = "users-service"
  namespace   = "shop"
  selector    = { app = "users" }
  port        = 80
  target_port = 8080
}

service "orders" {
  name      = "orders-service"
  namespace = "shop"
  selector  = { app = "orders" }
  port      = 80
}

service "restricted" {
  name         = "restricted-service"
  namespace    = "shop"
  selector     = { app = "restricted" }
  port         = 80
  default_deny = ["egress"]
  dns          = false # not even name resolution
}

route "api" {
  gateway   = gateway.public
  hostnames = ["api.example.com"]

  rule {
    path    = "/users"
    backend = service.users
  }

  rule {
    path    = "/orders"
    backend = service.orders
  }
}

allow "users pays" {
  from  = service.users
  to    = cidr("203.0.113.0/24") # payment provider
  ports = ["443/tcp"]
}

check "users reaches the payment provider" {
  from   = service.users
  to     = cidr("203.0.113.10/32")
  port   = "443/tcp"
  expect = "allow"
}

check "users cannot reach the rest of the internet" {
  from   = service.users
  to     = cidr("8.8.8.8/32")
  port   = "443/tcp"
  expect = "deny"
}

check "restricted-service sends nothing out" {
  from   = service.restricted
  to     = cidr("203.0.113.10/32")
  port   = "443/tcp"
  expect = "deny"
}

check "the gateway reaches users on its pod port" {
  from   = gateway.public
  to     = service.users
  expect = "allow"
}
