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

service "blog" {
  namespace   = namespace.web
  selector    = { app = "blog" }
  port        = 80
  target_port = 2368
}

service "docs" {
  namespace = namespace.web
  selector  = { app = "docs" }
  port      = 80
}

# from Ingress web/blog
route "blog" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["example.com"]
  rule {
    path    = "/blog"
    backend = service.blog
    rewrite {
      path = "/"
    }
  }
}

# from Ingress web/docs
route "docs" {
  namespace = "web"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["example.com"]
  rule {
    path    = "/docs"
    backend = service.docs
    rewrite {
      prefix = "/"
    }
  }
}

