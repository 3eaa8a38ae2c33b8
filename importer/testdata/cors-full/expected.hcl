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
    path    = "/v1"
    backend = service.api
    cors {
      allow_origins  = ["https://www.example.com", "https://*.example.org:8443"]
      allow_methods  = ["GET", "POST", "PUT"]
      allow_headers  = ["Content-Type", "Authorization", "X-Request-Id"]
      expose_headers = ["X-Request-Id", "X-RateLimit-Remaining"]
      max_age        = 600
    }
  }
  rule {
    path      = "/healthz"
    path_type = "exact"
    backend   = service.api
    cors {
      allow_origins  = ["https://www.example.com", "https://*.example.org:8443"]
      allow_methods  = ["GET", "POST", "PUT"]
      allow_headers  = ["Content-Type", "Authorization", "X-Request-Id"]
      expose_headers = ["X-Request-Id", "X-RateLimit-Remaining"]
      max_age        = 600
    }
  }
}

