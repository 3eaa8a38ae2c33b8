# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "shop" {
}

service "api" {
  namespace   = namespace.shop
  selector    = { app = "api" }
  port        = 80
  target_port = 8080
}

# from Ingress shop/api
route "api" {
  namespace = "shop"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["api.example.com"]
  rule {
    path    = "/"
    backend = service.api
  }
}

