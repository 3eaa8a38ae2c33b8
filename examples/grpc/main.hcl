# A gRPC service behind a GRPCRoute, on a gateway served by a custom
# implementation whose data plane perimeter is told about explicitly.

perimeter {
  stack = "greeter"
}

gateway "grpc" {
  name           = "grpc-gateway"
  namespace      = "edge"
  implementation = "custom"
  listener       = "grpc"
  listener_ports = [8443] # what clients connect to on the proxy pods

  data_plane {
    namespace = "edge"
    selector  = { "app.kubernetes.io/name" = "edge-proxy" }
  }
}

# The proxies' own namespace denies by default: perimeter admits clients to
# the proxies on their listener port and lets the proxies reach each backend.
namespace "edge" {
  default_deny = ["ingress", "egress"]
}

namespace "greeter" {
  default_deny = ["ingress", "egress"]
}

service "greeter" {
  namespace   = "greeter"
  selector    = { app = "greeter" }
  port        = 50051
  target_port = "grpc"
}

service "greeter_v2" {
  name        = "greeter-v2"
  namespace   = "greeter"
  selector    = { app = "greeter", version = "v2" }
  port        = 50051
  target_port = "grpc"
}

grpc_route "greeter" {
  gateway   = gateway.grpc
  hostnames = ["grpc.example.com"]

  rule {
    grpc_service = "helloworld.Greeter"
    grpc_method  = "SayHello"
    headers      = { "x-version" = "2" }
    backend      = service.greeter_v2
  }

  rule {
    grpc_service = "helloworld.Greeter"
    backend      = service.greeter
  }
}

allow "greeter reads its cache" {
  from  = service.greeter
  to    = pods("greeter", { app = "redis" })
  ports = ["6379/tcp"]
}
