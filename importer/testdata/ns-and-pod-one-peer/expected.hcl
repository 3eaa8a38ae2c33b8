# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

namespace "data" {
}

# kept verbatim: an ingress rule has one peer with a namespaceSelector AND a podSelector (the matching pods of the matching namespaces, not either); an allow from those pods would also restrict their egress
policy "data-db-from-shop-api" {
  yaml = <<EOT
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: imported-db-from-shop-api
  namespace: data
spec:
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          team: shop
      podSelector:
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

