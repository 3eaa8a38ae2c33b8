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
  hostnames = ["upload.example.com"]
  rule {
    path    = "/upload"
    backend = service.upload
    timeout = "120s"
  }
}

