# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

gateway "public" {
  namespace      = "infra"
  implementation = "envoy-gateway"
  listener       = "https"
}

namespace "iot" {
}

service "broker" {
  namespace = namespace.iot
  selector  = { app = "broker" }
  port      = 8883
}

service "broker-game" {
  name      = "broker"
  namespace = namespace.iot
  selector  = { app = "broker" }
  port      = 7777
  protocol  = "udp"
}

# from ConfigMap ingress-nginx/tcp-services: port 1883 (tcp)
tcp_route "broker-1883" {
  namespace = "iot"
  gateway   = gateway.public
  listener  = "tcp-1883"
  backend   = service.broker
}

# from ConfigMap ingress-nginx/tcp-services: port 5432 (tcp)
tcp_route "broker-5432" {
  namespace = "iot"
  gateway   = gateway.public
  listener  = "tcp-5432"
  backend   = service.broker
}

# from Ingress iot/mqtt (ssl-passthrough)
tls_route "mqtt" {
  namespace = "iot"
  gateway   = gateway.public
  listener  = "tls"
  hostnames = ["mqtt.example.com"]
  backend   = service.broker
}

# from ConfigMap ingress-nginx/udp-services: port 53 (udp)
udp_route "broker-53" {
  namespace = "iot"
  gateway   = gateway.public
  listener  = "udp-53"
  backend   = service.broker-game
}

