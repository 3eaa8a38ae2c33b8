# The three tiers together: the platform's guardrail (Admin tier, before
# every NetworkPolicy), the application's intent (NetworkPolicies), and the
# platform's baseline (Baseline tier, after them). The seed's payment
# provider is reached by name, not by a CIDR that changes.
#
# Domain names need a network policy implementation that enforces
# ClusterNetworkPolicy domainNames (the API's experimental channel); the
# stack says so with fqdn_egress.

perimeter {
  stack       = "platform"
  fqdn_egress = "cluster-network-policy"
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

# reports has no allow of its own: the baseline decides its egress.
service "reports" {
  name      = "reports-service"
  namespace = "shop"
  selector  = { app = "reports" }
  port      = 80
}

# No pod reaches the cloud metadata service, whatever a NetworkPolicy says.
guardrail "no-metadata" {
  priority = 10
  subject  = namespaces({})

  egress "metadata" {
    action = "deny"
    to     = cidr("169.254.169.254/32")
  }
}

# Every pod that no NetworkPolicy isolates for egress may resolve names and
# nothing else.
baseline "egress-dns-only" {
  priority = 100
  subject  = namespaces({})

  egress "dns" {
    action = "accept"
    to     = pods("kube-system", { k8s-app = "kube-dns" })
    ports  = ["53/udp", "53/tcp"]
  }

  egress "everything else" {
    action = "deny"
    to     = [cidr("0.0.0.0/0"), cidr("::/0")]
  }
}

# The application's intent: users pays through the payment provider's API,
# orders calls users.
allow "users pays" {
  from  = service.users
  to    = fqdn("api.stripe.com")
  ports = ["443/tcp"]
}

allow "orders calls users" {
  from = service.orders
  to   = service.users
}

check "no pod reaches the metadata service" {
  from   = service.users
  to     = cidr("169.254.169.254/32")
  port   = "80/tcp"
  expect = "deny"
}

check "users reaches the payment provider by name" {
  from   = service.users
  to     = fqdn("api.stripe.com")
  port   = "443/tcp"
  expect = "allow"
}

check "users reaches no other name" {
  from   = service.users
  to     = fqdn("api.example.org")
  port   = "443/tcp"
  expect = "deny"
}

check "orders calls users" {
  from   = service.orders
  to     = service.users
  expect = "allow"
}

check "orders reaches nothing else" {
  from   = service.orders
  to     = cidr("8.8.8.8/32")
  port   = "443/tcp"
  expect = "deny"
}

check "reports resolves names" {
  from   = service.reports
  to     = pods("kube-system", { k8s-app = "kube-dns" })
  port   = "53/udp"
  expect = "allow"
}

check "reports cannot reach the internet" {
  from   = service.reports
  to     = cidr("8.8.8.8/32")
  port   = "443/tcp"
  expect = "deny"
}
