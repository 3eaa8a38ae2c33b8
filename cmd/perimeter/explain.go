package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
	"github.com/perimeter-dev/perimeter/views"
)

// explainFlags are the connection explain asks about.
type explainFlags struct {
	from, to, port string
	url, method    string
}

func newExplain() *cobra.Command {
	var f compileFlags
	var lf liveFlags
	var x explainFlags
	cmd := &cobra.Command{
		Use:   "explain [DIR] (--from X --to Y [--port P] | --url URL)",
		Short: "Explain whether one endpoint may reach another, and why",
		Long: `explain compiles the intent in DIR (default: the current directory) and
prints whether --from may reach --to on --port under the NetworkPolicies it
produces, with the chain of reasons: for the source's egress and the
destination's ingress, the policies isolating each end and the rule (and HCL
block, file:line) admitting the connection, or the fact that none does.

--from and --to are endpoint expressions as in the HCL: service.NAME,
namespace.NAME, pods("ns", {app = "x"}), namespaces({team = "x"}),
cidr("8.8.8.8/32"), or gateway.NAME for a gateway's data-plane pods (var.*
and local.* are not available). --port is one port as in a check ("443/tcp",
"53/udp", "metrics"); it defaults to the destination service's target port.

The verdict is UNKNOWN when it depends on a fact the intent does not hold
(an unmanaged namespace's labels, the pods' named ports, pod IPs); the
facts, and how to settle each, are listed. With --live the endpoints stand
for the cluster's real pods (every pair is evaluated; a pair is shown),
with the cluster's namespaces and NetworkPolicies.

With --url, explain instead finds, for each gateway, the HTTPRoute rule
answering the request (Gateway API precedence; rules matching on headers or
query parameters are skipped) and whether the gateway's data plane may reach
each backend on its pod port. A tls:// URL (default port 443) finds the
TLSRoute serving its SNI name on a TLS listener of that port; tcp://HOST:PORT
and udp://HOST:PORT find the TCPRoute or UDPRoute on the listener of that
port (the host plays no part).`,
		Example: `  perimeter explain --from service.users --to 'cidr("8.8.8.8/32")' --port 443/tcp
  perimeter explain --from gateway.public --to service.orders
  perimeter explain --url https://api.example.com/users
  perimeter explain --url tcp://gateway:5432`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if x.url == "" && (x.from == "" || x.to == "") {
				return fmt.Errorf("explain needs --from and --to, or --url")
			}
			in, src, w, err := loadReach(cmd, dirArg(args), f, lf)
			if err != nil {
				return err
			}
			if x.url != "" {
				return explainURL(cmd.OutOrStdout(), in, w, x.url, x.method)
			}
			v, diags := explainQuery(in, w, x)
			if diags.HasErrors() {
				printDiagnostics(cmd.ErrOrStderr(), src, diags)
				return errDiagnostics
			}
			views.WriteReachExplanation(cmd.OutOrStdout(), w.Engine, v, w.Describe)
			return nil
		},
	}
	f.register(cmd)
	lf.register(cmd)
	cmd.Flags().StringVar(&x.from, "from", "", "source endpoint expression (required)")
	cmd.Flags().StringVar(&x.to, "to", "", "destination endpoint expression (required)")
	_ = cmd.RegisterFlagCompletionFunc("from", completeEndpoints)
	_ = cmd.RegisterFlagCompletionFunc("to", completeEndpoints)
	cmd.Flags().StringVar(&x.port, "port", "", "destination port, e.g. 443/tcp (default: the destination service's target port)")
	cmd.Flags().StringVar(&x.url, "url", "", "instead of --from/--to: which route and backend answer this URL, and may the gateway reach it")
	cmd.Flags().StringVar(&x.method, "method", "GET", "the request method, with --url")
	return cmd
}

// explainQuery resolves the flags and evaluates the connection.
func explainQuery(in *hclspec.Intent, w *reach.Intent, x explainFlags) (reach.Verdict, hcl.Diagnostics) {
	from, _, diags := explainEnd(in, w, x.from, "--from")
	to, toEndpoint, d := explainEnd(in, w, x.to, "--to")
	if diags = append(diags, d...); diags.HasErrors() {
		return reach.Verdict{}, diags
	}
	var spec hclspec.PortSpec
	if x.port != "" {
		var err error
		if spec, err = hclspec.ParsePort(x.port); err != nil {
			return reach.Verdict{}, flagError("Invalid port", "--port: %s.", err)
		}
	}
	ports, err := reach.PortsFor(spec, toEndpoint)
	if err != nil {
		return reach.Verdict{}, flagError("Missing port", "Give --port: %s.", err)
	}
	list := ports.Ports()
	if len(list) != 1 {
		return reach.Verdict{}, flagError("One port", "explain takes one port; %s is %d ports. Use perimeter check for ranges.", ports, len(list))
	}
	return w.Evaluate(from, to, list[0]), nil
}

// explainEnd evaluates one endpoint flag.
func explainEnd(in *hclspec.Intent, w *reach.Intent, expr, flag string) (reach.Peer, hclspec.Endpoint, hcl.Diagnostics) {
	e, g, diags := in.EvalEndpoint(expr, flag)
	if diags.HasErrors() {
		return reach.Peer{}, e, diags
	}
	if g != nil {
		return w.GatewayPeer(g), e, nil
	}
	p, err := w.Peer(e)
	if err != nil {
		return p, e, flagError("Invalid endpoint", "%s: %s.", flag, err)
	}
	return p, e, nil
}

func flagError(summary, format string, args ...any) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...)}}
}
