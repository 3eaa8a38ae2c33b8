# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

namespace "apps" {
}

service "metrics" {
  namespace = namespace.apps
  selector  = { app = "metrics" }
  port      = 9090
}

# from NetworkPolicy apps/metrics-scrape
allow "metrics-scrape-ingress-1" {
  from  = [namespaces({ purpose = "monitoring" }), cidr("10.10.0.0/16")]
  to    = service.metrics
  ports = ["9090/tcp", "metrics/tcp"]
}

# from NetworkPolicy apps/metrics-scrape
allow "metrics-scrape-ingress-2" {
  from  = namespaces({ purpose = "debug" })
  to    = service.metrics
  ports = ["tcp", "udp", "sctp"]
}

# kept verbatim: its podSelector uses matchExpressions
policy "apps-legacy" {
  yaml = <<EOT
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: imported-legacy
  namespace: apps
spec:
  ingress:
  - {}
  podSelector:
    matchExpressions:
    - key: tier
      operator: In
      values:
      - web
      - api
EOT
}

