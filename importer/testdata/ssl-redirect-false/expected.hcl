# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

# TLS for api.example.com needs certificate Secret api/api-tls on this listener (from Ingress api/api)
gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "api" {
}

service "api" {
  namespace = namespace.api
  selector  = { app = "api" }
  port      = 8080
}

# from Ingress api/api
route "api" {
  namespace = "api"
  gateway   = gateway.public
  hostnames = ["api.example.com"]
  rule {
    path    = "/"
    backend = service.api
  }
}

