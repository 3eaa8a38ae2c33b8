# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

namespace "jobs" {
}

service "worker" {
  namespace    = namespace.jobs
  selector     = { app = "worker" }
  port         = 9000
  default_deny = ["egress"]
  dns          = false
}

# from NetworkPolicy jobs/worker-from-ops
allow "worker-from-ops" {
  from  = namespaces({ team = "ops" })
  to    = service.worker
  ports = ["9000/tcp"]
}

# kept verbatim: it denies a direction for pods that are not exactly a Service's (baselines are per namespace or per service)
policy "jobs-cron-isolated" {
  yaml = <<EOT
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: imported-cron-isolated
  namespace: jobs
spec:
  podSelector:
    matchLabels:
      app: cron
  policyTypes:
  - Ingress
EOT
}

