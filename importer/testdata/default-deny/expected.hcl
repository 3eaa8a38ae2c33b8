# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

namespace "billing" {
  default_deny = ["ingress"]
}

namespace "payments" {
  default_deny = ["ingress", "egress"]
  # the input opened DNS only where its policies did; perimeter adds nothing
  dns = false
}

# kept verbatim: an egress rule has one peer with a namespaceSelector AND a podSelector (the matching pods of the matching namespaces, not either); an allow from those pods would also restrict their egress
policy "payments-allow-dns" {
  yaml = <<EOT
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: imported-allow-dns
  namespace: payments
spec:
  egress:
  - ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
    to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  podSelector: {}
  policyTypes:
  - Egress
EOT
}

