# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

namespace "data" {
}

# kept verbatim: an ingress rule lists a podSelector as a peer of its own (its pods OR the other peers, not their intersection); an allow from those pods would also restrict their egress
policy "data-db-from-shop-or-api" {
  yaml = <<EOT
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: imported-db-from-shop-or-api
  namespace: data
spec:
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          team: shop
    - podSelector:
        matchLabels:
          app: api
    ports:
    - port: 5432
  podSelector:
    matchLabels:
      app: db
  policyTypes:
  - Ingress
EOT
}

