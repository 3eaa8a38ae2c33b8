# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "analytics" {
}

# TODO: Service analytics/reports was not in the input: check selector and ports.
service "reports" {
  namespace = namespace.analytics
  selector  = { app = "reports" }
  port      = 8080
}

# from Ingress analytics/reports
route "reports" {
  namespace = "analytics"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["reports.example.com"]
  rule {
    path    = "/"
    backend = service.reports
  }
}

