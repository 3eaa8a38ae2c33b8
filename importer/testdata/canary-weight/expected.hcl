# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "prod" {
}

service "api" {
  namespace   = namespace.prod
  selector    = { app = "api", track = "stable" }
  port        = 80
  target_port = 8080
}

service "api-canary" {
  namespace   = namespace.prod
  selector    = { app = "api", track = "canary" }
  port        = 80
  target_port = 8080
}

# from Ingress prod/api
route "api" {
  namespace = "prod"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["api.example.com"]
  rule {
    path     = "/"
    backends = [{ service = service.api, weight = 90 }, { service = service.api-canary, weight = 10 }]
  }
}

