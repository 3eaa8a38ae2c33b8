# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

# TLS for shop.example.com needs certificate Secret store/shop-tls on this listener (from Ingress store/shop)
gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "store" {
}

service "shop" {
  namespace   = namespace.store
  selector    = { app = "shop" }
  port        = 80
  target_port = 8080
}

# from Ingress store/bad-root
route "bad-root" {
  namespace = "store"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["other.example.com"]
  rule {
    path    = "/"
    backend = service.shop
  }
}

# from Ingress store/shop
route "shop-shop-example-com" {
  namespace = "store"
  gateway   = gateway.public
  hostnames = ["shop.example.com"]
  rule {
    path      = "/"
    path_type = "exact"
    redirect {
      path   = "/app1"
      status = 302
    }
  }
  rule {
    path    = "/"
    backend = service.shop
  }
}

# from Ingress store/shop: HTTP requests are redirected to HTTPS (ssl-redirect)
route "shop-shop-example-com-https-redirect" {
  namespace = "store"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["shop.example.com"]
  rule {
    path      = "/"
    path_type = "exact"
    redirect {
      scheme = "https"
      status = 308
    }
  }
  rule {
    path = "/"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

# from Ingress store/shop
route "shop-shop-example-net" {
  namespace = "store"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["shop.example.net"]
  rule {
    path      = "/"
    path_type = "exact"
    redirect {
      path   = "/app1"
      status = 302
    }
  }
  rule {
    path    = "/"
    backend = service.shop
  }
}

