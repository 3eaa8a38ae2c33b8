# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "default" {
}

# TODO: Service default/legacy selects no pods: set the labels of the pods behind it.
service "legacy" {
  namespace = namespace.default
  selector  = { app = "legacy" }
  port      = 8080
}

# from Ingress default/legacy
route "legacy" {
  namespace = "default"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["legacy.example.com"]
  rule {
    path    = "/"
    backend = service.legacy
  }
}

