# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

# TLS for www.example.com, example.com needs certificate Secret site/web-tls on this listener (from Ingress site/web)
gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "site" {
}

service "web" {
  namespace = namespace.site
  selector  = { app = "web" }
  port      = 8080
}

# from Ingress site/web
route "web-example-com" {
  namespace = "site"
  gateway   = gateway.public
  hostnames = ["example.com"]
  rule {
    path    = "/"
    backend = service.web
  }
}

# from Ingress site/web: HTTP requests are redirected to HTTPS (ssl-redirect)
route "web-example-com-https-redirect" {
  namespace = "site"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["example.com"]
  rule {
    path = "/"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

# from Ingress site/web
route "web-www-example-com" {
  namespace = "site"
  gateway   = gateway.public
  hostnames = ["www.example.com"]
  rule {
    path    = "/"
    backend = service.web
  }
}

# from Ingress site/web: HTTP requests are redirected to HTTPS (ssl-redirect)
route "web-www-example-com-https-redirect" {
  namespace = "site"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["www.example.com"]
  rule {
    path = "/"
    redirect {
      scheme = "https"
      status = 308
    }
  }
}

