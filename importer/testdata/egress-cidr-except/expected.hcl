# Imported by perimeter import. Review every TODO and the import report before planning.
perimeter {
  stack = "imported"
}

namespace "payments" {
  # the input opened DNS only where its policies did; perimeter adds nothing
  dns = false
}

service "payer" {
  namespace   = namespace.payments
  selector    = { app = "payer" }
  port        = 80
  target_port = 8080
  dns         = false
}

# from NetworkPolicy payments/batch-egress
allow "batch-egress" {
  from = pods("payments", { role = "batch" })
  to   = cidr("0.0.0.0/0", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
}

# from NetworkPolicy payments/payer-egress
allow "payer-egress-egress-1" {
  from  = service.payer
  to    = cidr("203.0.113.0/24", ["203.0.113.7/32", "203.0.113.128/25"])
  ports = ["443/tcp"]
}

# from NetworkPolicy payments/payer-egress
allow "payer-egress-egress-2" {
  from  = service.payer
  to    = cidr("198.51.100.0/24")
  ports = ["5000-5100/udp"]
}

