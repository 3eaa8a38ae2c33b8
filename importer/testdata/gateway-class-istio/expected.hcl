# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "istio"
  listener       = "https"
}

namespace "shop" {
}

service "shop" {
  namespace   = namespace.shop
  selector    = { app = "shop" }
  port        = 80
  target_port = 8080
}

# from Ingress shop/shop
route "shop" {
  namespace = "shop"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["shop.example.com"]
  rule {
    path    = "/"
    backend = service.shop
  }
}

