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

service "checkout" {
  namespace   = namespace.shop
  selector    = { app = "checkout" }
  port        = 80
  target_port = 8080
}

service "checkout-v2" {
  namespace   = namespace.shop
  selector    = { app = "checkout", version = "v2" }
  port        = 80
  target_port = 8080
}

# from Ingress shop/checkout
route "checkout" {
  namespace = "shop"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["shop.example.com"]
  rule {
    path     = "/checkout"
    backends = [{ service = service.checkout, weight = 95 }, { service = service.checkout-v2, weight = 5 }]
  }
  rule {
    path    = "/checkout"
    headers = { X-Canary = "v2" }
    backend = service.checkout-v2
  }
}

