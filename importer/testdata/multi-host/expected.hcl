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

service "orders" {
  namespace   = namespace.shop
  selector    = { app = "orders" }
  port        = 80
  target_port = "http"
}

service "users" {
  namespace   = namespace.shop
  selector    = { app = "users" }
  port        = 80
  target_port = 8080
}

# from Ingress shop/shop
route "shop-admin-example-com" {
  namespace = "shop"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["admin.example.com"]
  rule {
    path      = "/healthz"
    path_type = "exact"
    backend   = service.users
  }
  rule {
    path    = "/legacy"
    backend = service.orders
  }
}

# from Ingress shop/shop
route "shop-api-example-com" {
  namespace = "shop"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["api.example.com"]
  rule {
    path    = "/users"
    backend = service.users
  }
  rule {
    path    = "/orders"
    backend = service.orders
  }
}

