# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "web" {
}

# from Ingress web/old-site
route "old-site" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["old.example.com"]
  rule {
    path = "/"
    redirect {
      scheme   = "https"
      hostname = "new.example.com"
      path     = "/welcome"
      status   = 308
    }
  }
}

# from Ingress web/promo
route "promo" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["promo.example.com"]
  rule {
    path = "/"
    redirect {
      scheme   = "https"
      hostname = "example.com"
      port     = 8443
      path     = "/sale"
      status   = 302
    }
  }
}

