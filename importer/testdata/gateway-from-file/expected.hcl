# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

# TLS for blog.example.com needs certificate Secret blog/blog-tls on this listener (from Ingress blog/blog)
gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "blog" {
}

service "blog" {
  namespace   = namespace.blog
  selector    = { app = "blog" }
  port        = 80
  target_port = 2368
}

# from Ingress blog/blog
route "blog" {
  namespace = "blog"
  gateway   = gateway.public
  hostnames = ["blog.example.com"]
  rule {
    path    = "/"
    backend = service.blog
  }
}

# from Ingress blog/blog: HTTP requests are redirected to HTTPS (ssl-redirect)
route "blog-https-redirect" {
  namespace = "blog"
  gateway   = gateway.public
  listener  = "plain"
  hostnames = ["blog.example.com"]
  rule {
    path = "/"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

