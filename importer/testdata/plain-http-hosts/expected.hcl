# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

# TLS for secure.example.com needs certificate Secret site/secure-tls on this listener (from Ingress site/web)
gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "site" {
}

service "rpc" {
  namespace = namespace.site
  selector  = { app = "rpc" }
  port      = 9000
}

service "web" {
  namespace   = namespace.site
  selector    = { app = "web" }
  port        = 80
  target_port = 8080
}

# from Ingress site/blog
route "blog" {
  namespace = "site"
  gateway   = gateway.public
  hostnames = ["secure.example.com"]
  rule {
    path    = "/blog"
    backend = service.web
  }
}

# from Ingress site/blog: HTTP requests are redirected to HTTPS (ssl-redirect)
route "blog-https-redirect" {
  namespace = "site"
  gateway   = gateway.public
  listener  = "web"
  hostnames = ["secure.example.com"]
  rule {
    path = "/blog"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

# from Ingress site/rpc
grpc_route "rpc" {
  namespace = "site"
  gateway   = gateway.public
  hostnames = ["rpc.example.com"]
  rule {
    backend = service.rpc
  }
}

# from Ingress site/web
route "web-default" {
  namespace = "site"
  gateway   = gateway.public
  listener  = "web"
  rule {
    path    = "/"
    backend = service.web
  }
}

# from Ingress site/web
route "web-plain-example-com" {
  namespace = "site"
  gateway   = gateway.public
  listener  = "web"
  hostnames = ["plain.example.com"]
  rule {
    path    = "/"
    backend = service.web
  }
}

# from Ingress site/web
route "web-secure-example-com" {
  namespace = "site"
  gateway   = gateway.public
  hostnames = ["secure.example.com"]
  rule {
    path    = "/"
    backend = service.web
  }
}

# from Ingress site/web: HTTP requests are redirected to HTTPS (ssl-redirect)
route "web-secure-example-com-https-redirect" {
  namespace = "site"
  gateway   = gateway.public
  listener  = "web"
  hostnames = ["secure.example.com"]
  rule {
    path = "/"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

