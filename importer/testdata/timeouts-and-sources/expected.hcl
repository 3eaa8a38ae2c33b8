# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "media" {
}

service "upload" {
  namespace   = namespace.media
  selector    = { app = "upload" }
  port        = 80
  target_port = 9000
}

# from Ingress media/upload
route "upload" {
  namespace = "media"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["upload.example.com"]
  rule {
    path    = "/upload"
    backend = service.upload
    timeout = "120s"
    cors {
      allow_origins     = ["https://app.example.com"]
      allow_methods     = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
      allow_headers     = ["DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control", "Content-Type", "Range", "Authorization"]
      allow_credentials = true
      max_age           = 1728000
    }
  }
}

