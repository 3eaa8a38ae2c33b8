# Migration from ingress-nginx. DELETE THIS FILE AS THE LAST MIGRATION STEP.
#
# The routes in main.hcl isolate their backends: from the first apply, only
# gateway infra/public and the allow blocks naming a backend reach
# its pods. These allows keep the running ingress-nginx controller able to
# reach every backend it serves, on the backend's target port, so the
# Ingresses keep serving while traffic moves to the gateway.
# Controller: pods app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx in namespace ingress-nginx (assumed: no controller Deployment or DaemonSet was read).
#
# Once clients reach the backends through the gateway and the Ingresses are
# deleted, delete this file: perimeter plan then shows only the deletes of
# these policies.

allow "legacy ingress-nginx -> dns" {
  from = pods("ingress-nginx", { "app.kubernetes.io/component" = "controller", "app.kubernetes.io/name" = "ingress-nginx" })
  to   = service.dns
}

allow "legacy ingress-nginx -> postgres" {
  from = pods("ingress-nginx", { "app.kubernetes.io/component" = "controller", "app.kubernetes.io/name" = "ingress-nginx" })
  to   = service.postgres
}

allow "legacy ingress-nginx -> redis" {
  from = pods("ingress-nginx", { "app.kubernetes.io/component" = "controller", "app.kubernetes.io/name" = "ingress-nginx" })
  to   = service.redis
}

allow "legacy ingress-nginx -> vault-https" {
  from = pods("ingress-nginx", { "app.kubernetes.io/component" = "controller", "app.kubernetes.io/name" = "ingress-nginx" })
  to   = service.vault-https
}

