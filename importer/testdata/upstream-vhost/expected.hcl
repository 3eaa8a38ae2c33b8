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

service "legacy" {
  namespace   = namespace.web
  selector    = { app = "legacy" }
  port        = 80
  target_port = 8080
}

# from Ingress web/api
route "api" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["api.example.com"]
  rule {
    path    = "/v1"
    backend = service.legacy
    rewrite {
      hostname = "api.internal.example.com"
      prefix   = "/"
    }
  }
}

# from Ingress web/legacy
route "legacy" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["www.example.com"]
  rule {
    path    = "/"
    backend = service.legacy
    rewrite {
      hostname = "legacy.internal.example.com"
    }
  }
}

# from Ingress web/variable
route "variable" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["var.example.com"]
  rule {
    path    = "/"
    backend = service.legacy
  }
}

# from Ingress web/with-port
route "with-port" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["port.example.com"]
  rule {
    path    = "/"
    backend = service.legacy
  }
}

