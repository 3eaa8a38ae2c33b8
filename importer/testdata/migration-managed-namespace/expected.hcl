# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "ingress-nginx" {
}

namespace "site" {
}

service "web" {
  namespace   = namespace.site
  selector    = { app = "web" }
  port        = 80
  target_port = 8080
}

# from Ingress site/web
route "web" {
  namespace = "site"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["www.example.com"]
  rule {
    path    = "/"
    backend = service.web
  }
}

# from NetworkPolicy ingress-nginx/controller-from-anywhere
allow "controller-from-anywhere" {
  from  = cidr("0.0.0.0/0")
  to    = pods("ingress-nginx", { "app.kubernetes.io/name" = "ingress-nginx" })
  ports = ["80/tcp", "443/tcp"]
}

