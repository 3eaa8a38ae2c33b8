# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "kube-dashboard" {
}

service "dashboard" {
  namespace   = namespace.kube-dashboard
  selector    = { k8s-app = "kubernetes-dashboard" }
  port        = 443
  target_port = 8443
  backend_tls {
    hostname      = "dashboard.kube-dashboard.svc"
    well_known_ca = "System"
  }
}

# from Ingress kube-dashboard/dashboard
route "dashboard" {
  namespace = "kube-dashboard"
  gateway   = gateway.public
  listener  = "http"
  hostnames = ["dashboard.example.com"]
  rule {
    path    = "/"
    backend = service.dashboard
  }
}

