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

# from GRPCRoute rpc/greeter-v2
grpc_route "greeter-v2" {
  namespace = "rpc"
  gateway   = gateway.public
  hostnames = ["grpc.example.com"]
  rule {
    grpc_service = "helloworld.Greeter"
    grpc_method  = "SayHello"
    headers      = { x-canary = "true" }
    backend      = service.greeter
  }
  rule {
    grpc_service = "helloworld.Greeter"
    grpc_method  = "SayGoodbye"
    backend      = service.greeter
  }
}

