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

service "store" {
  namespace   = namespace.shop
  selector    = { app = "store" }
  port        = 80
  target_port = 8080
}

service "store-next" {
  namespace   = namespace.shop
  selector    = { app = "store", track = "next" }
  port        = 80
  target_port = 8080
}

# from HTTPRoute shop/legacy
route "legacy" {
  namespace = "shop"
  gateway   = gateway.public
  rule {
    path    = "/api"
    headers = { x-version = "2" }
    backend = service.store
    rewrite {
      prefix = "/v2"
    }
  }
}

# from HTTPRoute shop/search
route "search" {
  namespace = "shop"
  gateway   = gateway.public
  hostnames = ["store.example.com"]
  rule {
    path    = "/search"
    query   = { q = "shoes" }
    method  = "GET"
    backend = service.store
  }
  rule {
    path      = "/find"
    path_type = "exact"
    backend   = service.store
  }
}

# from HTTPRoute shop/store
route "store" {
  namespace = "shop"
  gateway   = gateway.public
  hostnames = ["store.example.com"]
  rule {
    path     = "/cart"
    backends = [{ service = service.store, weight = 90 }, { service = service.store-next, weight = 10 }]
    timeout  = "30s"
  }
  rule {
    path      = "/old"
    path_type = "exact"
    redirect {
      scheme   = "https"
      hostname = "store.example.com"
      status   = 301
    }
  }
  rule {
    path      = "/item/[0-9]+"
    path_type = "regex"
    backend   = service.store
  }
}

