# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "docs" {
}

service "docs" {
  namespace = namespace.docs
  selector  = { app = "docs" }
  port      = 80
}

# from Ingress docs/docs
route "docs-default" {
  namespace = "docs"
  gateway   = gateway.public
  rule {
    path    = "/"
    backend = service.docs
  }
}

# from Ingress docs/docs: HTTP requests are redirected to HTTPS (ssl-redirect)
route "docs-default-https-redirect" {
  namespace = "docs"
  gateway   = gateway.public
  listener  = "http"
  rule {
    path = "/"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

# from Ingress docs/docs
route "docs-docs-example-com" {
  namespace = "docs"
  gateway   = gateway.public
  hostnames = ["docs.example.com"]
  rule {
    path    = "/v1"
    backend = service.docs
  }
}

# from Ingress docs/docs: HTTP requests are redirected to HTTPS (ssl-redirect)
route "docs-docs-example-com-https-redirect" {
  namespace = "docs"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["docs.example.com"]
  rule {
    path = "/v1"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

