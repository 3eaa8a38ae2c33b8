# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

# TLS for vault.example.com needs certificate Secret secrets/vault-public-tls on this listener (from Ingress secrets/vault)
gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "secrets" {
}

service "vault-https" {
  name      = "vault"
  namespace = namespace.secrets
  selector  = { app = "vault" }
  port      = 8200
  backend_tls {
    hostname        = "vault.secrets.svc"
    ca_certificates = ["vault-ca"]
    port_name       = "https"
  }
}

# from Ingress secrets/vault
route "vault" {
  namespace = "secrets"
  gateway   = gateway.public
  hostnames = ["vault.example.com"]
  rule {
    path    = "/"
    backend = service.vault-https
  }
}

# from Ingress secrets/vault: HTTP requests are redirected to HTTPS (ssl-redirect)
route "vault-https-redirect" {
  namespace = "secrets"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["vault.example.com"]
  rule {
    path = "/"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

