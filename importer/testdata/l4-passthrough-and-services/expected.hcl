# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "data" {
}

namespace "secrets" {
}

service "dns" {
  namespace   = namespace.data
  selector    = { app = "dns" }
  port        = 53
  target_port = 5353
  protocol    = "udp"
}

service "postgres" {
  namespace = namespace.data
  selector  = { app = "postgres" }
  port      = 5432
}

# TODO: Service data/redis was not in the input: check selector and ports.
service "redis" {
  namespace = namespace.data
  selector  = { app = "redis" }
  port      = 6379
}

service "vault-https" {
  name        = "vault"
  namespace   = namespace.secrets
  selector    = { app = "vault" }
  port        = 443
  target_port = 8200
}

# from ConfigMap ingress-nginx/tcp-services: port 5432 (tcp)
tcp_route "postgres-5432" {
  namespace = "data"
  gateway   = gateway.public
  listener  = "tcp-5432"
  backend   = service.postgres
}

# from ConfigMap ingress-nginx/tcp-services: port 6379 (tcp)
tcp_route "redis-6379" {
  namespace = "data"
  gateway   = gateway.public
  listener  = "tcp-6379"
  backend   = service.redis
}

# from Ingress secrets/vault (ssl-passthrough)
tls_route "vault-vault-example-com" {
  namespace = "secrets"
  gateway   = gateway.public
  listener  = "tls"
  hostnames = ["vault.example.com"]
  backend   = service.vault-https
}

# from Ingress secrets/vault (ssl-passthrough)
tls_route "vault-vault-ui-example-com" {
  namespace = "secrets"
  gateway   = gateway.public
  listener  = "tls"
  hostnames = ["vault-ui.example.com"]
  backend   = service.vault-https
}

# from ConfigMap ingress-nginx/udp-services: port 53 (udp)
udp_route "dns-53" {
  namespace = "data"
  gateway   = gateway.public
  listener  = "udp-53"
  backend   = service.dns
}

