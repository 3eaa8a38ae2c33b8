# Beyond HTTP: a PostgreSQL database exposed by TCP, a passthrough-TLS
# service (the backend holds the certificate; the gateway routes on SNI)
# and a DNS service over UDP and TCP, all on one gateway this stack manages.

perimeter {
  stack = "data"
}

gateway "edge" {
  namespace      = "edge"
  implementation = "envoy-gateway"

  manage {
    class = "eg"

    listener "postgres" {
      protocol = "TCP"
      port     = 5432
    }

    listener "tls" {
      protocol = "TLS"
      port     = 443
      hostname = "*.example.com"
      tls_mode = "passthrough"
    }

    listener "dns" {
      protocol = "UDP"
      port     = 53
    }

    listener "dns-tcp" {
      protocol = "TCP"
      port     = 53
    }
  }
}

# Envoy Gateway runs the proxies in its controller's namespace. Denying
# ingress there makes perimeter admit clients on each listener port, on the
# listener's transport (UDP for the dns listener).
namespace "envoy-gateway-system" {
  default_deny = ["ingress"]
}

namespace "data" {
  default_deny = ["ingress", "egress"]
}

service "postgres" {
  namespace   = "data"
  selector    = { app = "postgres" }
  port        = 5432
  target_port = 5432
}

service "vault" {
  namespace   = "data"
  selector    = { app = "vault" }
  port        = 443
  target_port = 8200
}

service "resolver" {
  namespace   = "data"
  selector    = { app = "resolver" }
  port        = 53
  target_port = 5353
  protocol    = "udp"
}

# The TCPRoute lives beside the gateway in "edge" and its backend in
# "data": perimeter emits a ReferenceGrant for it. Each listener admits
# routes only from the namespaces of the routes attached to it.
tcp_route "postgres" {
  namespace = "edge"
  gateway   = gateway.edge
  listener  = "postgres"
  backend   = service.postgres
}

tls_route "vault" {
  gateway   = gateway.edge
  listener  = "tls"
  hostnames = ["vault.example.com"]
  backend   = service.vault
}

udp_route "resolver" {
  gateway  = gateway.edge
  listener = "dns"
  backend  = service.resolver
}

# DNS over TCP too: a second service block for the TCP port of the same
# Service. The gateway's admission policy for "resolver" admits both.
service "resolver_tcp" {
  name        = "resolver"
  namespace   = "data"
  selector    = { app = "resolver" }
  port        = 53
  target_port = 5353
}

tcp_route "resolver_tcp" {
  name     = "resolver-tcp"
  gateway  = gateway.edge
  listener = "dns-tcp"
  backend  = service.resolver_tcp
}
