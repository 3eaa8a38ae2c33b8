# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "cdn" {
}

service "fonts" {
  namespace = namespace.cdn
  selector  = { app = "fonts" }
  port      = 80
}

# from Ingress cdn/fonts
route "fonts" {
  namespace = "cdn"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["fonts.example.com"]
  rule {
    path    = "/"
    backend = service.fonts
    cors {
      allow_origins     = ["*"]
      allow_methods     = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
      allow_headers     = ["DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control", "Content-Type", "Range", "Authorization"]
      allow_credentials = true
      max_age           = 1728000
    }
  }
}

# from Ingress cdn/images
route "images" {
  namespace = "cdn"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["images.example.com"]
  rule {
    path    = "/"
    backend = service.fonts
  }
}

