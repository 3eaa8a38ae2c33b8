# A team that does not own the shared Gateway adds its own listener to it
# through a ListenerSet, and exposes its Redis by TCP on that listener.
# The platform team's Gateway must allow ListenerSets from this namespace
# (spec.allowedListeners); plan and doctor say when it does not.

perimeter {
  stack = "cache"
}

gateway "shared" {
  namespace      = "infra"
  implementation = "envoy-gateway"
}

namespace "cache" {
  default_deny = ["ingress", "egress"]
}

listener_set "cache" {
  namespace = namespace.cache
  gateway   = gateway.shared

  listener "redis" {
    protocol = "TCP"
    port     = 6379
  }
}

service "redis" {
  namespace = namespace.cache
  selector  = { app = "redis" }
  port      = 6379
}

tcp_route "redis" {
  gateway  = listener_set.cache
  listener = "redis"
  backend  = service.redis
}
