# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "edge" {
}

service "app" {
  namespace   = namespace.edge
  selector    = { app = "app" }
  port        = 80
  target_port = 3000
}

service "fallback" {
  namespace   = namespace.edge
  selector    = { app = "fallback" }
  port        = 80
  target_port = 8080
}

# from Ingress edge/edge
route "edge-app-example-com" {
  namespace = "edge"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["app.example.com"]
  rule {
    path    = "/"
    backend = service.app
  }
}

# from Ingress edge/edge
route "edge-default" {
  namespace = "edge"
  gateway   = gateway.public
  listener  = "http"
  rule {
    path    = "/"
    backend = service.fallback
  }
}

