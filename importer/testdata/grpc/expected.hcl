# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

# TLS for grpc.example.com needs certificate Secret rpc/grpc-tls on this listener (from Ingress rpc/greeter)
gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "rpc" {
}

service "greeter" {
  namespace = namespace.rpc
  selector  = { app = "greeter" }
  port      = 50051
}

# from Ingress rpc/greeter
grpc_route "greeter" {
  namespace = "rpc"
  gateway   = gateway.public
  hostnames = ["grpc.example.com"]
  rule {
    backend = service.greeter
  }
}

