# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "pay" {
}

service "payments" {
  namespace = namespace.pay
  selector  = { app = "payments" }
  port      = 9443
  backend_tls {
    hostname        = "payments.internal.example.com"
    ca_certificates = ["payments-ca"]
    port_name       = "grpcs"
  }
}

# from Ingress pay/payments
grpc_route "payments" {
  namespace = "pay"
  gateway   = gateway.public
  hostnames = ["payments.example.com"]
  rule {
    backend = service.payments
  }
}

