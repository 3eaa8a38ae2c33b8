package hclspec

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Options select what to compile.
type Options struct {
	Env  string            // environment name; "" uses variable defaults only
	Vars map[string]string // --var overrides, by variable name
	// VarFiles are values files (*.auto.pvars, then --var-file), between
	// the environment's values and --var in precedence.
	VarFiles *VarFiles
	// MaxFileSize bounds each intent file Load reads, in bytes; <= 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
	// MaxEvalWork is the evaluation budget (budget.go) of each Decode,
	// before the allowance for the intent's size; <= 0 means
	// DefaultMaxEvalWork.
	MaxEvalWork int64
	// Shared, when made by NewShared from the same Sources, decodes the
	// blocks that do not depend on the environment once for every Decode
	// given it; nil decodes everything per environment.
	Shared *Shared
}

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "perimeter"},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "environment", LabelNames: []string{"name"}},
	{Type: "namespace", LabelNames: []string{"name"}},
	{Type: "gateway", LabelNames: []string{"name"}},
	{Type: "service", LabelNames: []string{"name"}},
	{Type: "route", LabelNames: []string{"name"}},
	{Type: "grpc_route", LabelNames: []string{"name"}},
	{Type: "tls_route", LabelNames: []string{"name"}},
	{Type: "tcp_route", LabelNames: []string{"name"}},
	{Type: "udp_route", LabelNames: []string{"name"}},
	{Type: "listener_set", LabelNames: []string{"name"}},
	{Type: "allow", LabelNames: []string{"name"}},
	{Type: "check", LabelNames: []string{"name"}},
	{Type: "policy", LabelNames: []string{"name"}},
	{Type: "guardrail", LabelNames: []string{"name"}},
	{Type: "baseline", LabelNames: []string{"name"}},
}}

// Load reads and decodes the intent in dir.
func Load(dir string, opts Options) (*Intent, *Sources, hcl.Diagnostics) {
	src, diags := ReadDirMax(dir, opts.MaxFileSize)
	if diags.HasErrors() {
		return nil, src, diags
	}
	in, d := Decode(src, opts)
	return in, src, append(diags, d...)
}

// Decode type-checks the parsed files and resolves them into an Intent for
// one environment. It returns a nil Intent when there are errors.
func Decode(src *Sources, opts Options) (*Intent, hcl.Diagnostics) {
	d := &decoder{blocks: map[string]hcl.Blocks{}, seen: map[string]hcl.Range{}, gatewayBodies: map[*Gateway]*body{}, files: src.files,
		listenerSets: map[string]*ListenerSet{}, src: src, shared: opts.Shared}
	for i, b := range src.bodies() {
		if i == 0 {
			d.firstFile = hcl.Range{Filename: src.names[0], Start: hcl.InitialPos, End: hcl.InitialPos}
		}
		content, diags := b.Content(rootSchema)
		d.diags = append(d.diags, diags...)
		for _, blk := range content.Blocks {
			d.blocks[blk.Type] = append(d.blocks[blk.Type], blk)
		}
	}
	in := d.decode(opts, src.size())
	d.diags = explainBudget(d.diags)
	suggestReferences(d.diags)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return in, d.diags
}

// decoder carries the state of one Decode call.
type decoder struct {
	blocks map[string]hcl.Blocks
	seen   map[string]hcl.Range // "type.label" -> first definition
	diags  hcl.Diagnostics
	ctx    *hcl.EvalContext
	refs   refs
	// gatewayBodies keep each gateway's attributes until its clients, which
	// may name services, can be evaluated.
	gatewayBodies map[*Gateway]*body
	// listenerSets are the listener_set blocks, by label.
	listenerSets map[string]*ListenerSet
	// firstFile is where file-less problems (a missing perimeter block) point.
	firstFile hcl.Range
	// files are the parsed files, for positions inside heredocs.
	files map[string]*hcl.File
	// budget is charged by every evaluation (budget.go).
	budget *Budget
	// src and shared find the blocks decoded once for every environment;
	// meter and meterCtx measure their cost (shared.go).
	src      *Sources
	shared   *Shared
	meter    *Budget
	meterCtx *hcl.EvalContext
}

// decode resolves the blocks. The evaluation budget is the options' plus
// one unit per byte of intent: work that grows with the intent's size is
// what intents do; what grows faster is what the budget is for.
func (d *decoder) decode(opts Options, srcBytes int64) *Intent {
	limit := opts.MaxEvalWork
	if limit <= 0 {
		limit = DefaultMaxEvalWork
	}
	in := &Intent{budget: NewBudget(satAdd(limit, srcBytes))}
	d.budget = in.budget
	d.ctx = &hcl.EvalContext{Functions: in.budget.functions(), Variables: map[string]cty.Value{}}
	if d.tooManyErrors() {
		return in
	}
	d.decodeStack(in)
	if !d.decodeInputs(in, opts) {
		return in
	}
	d.refs = refs{services: map[string]*Service{}, namespaces: map[string]*Namespace{}, gateways: map[string]*Gateway{}}
	// Like a compiler, stop after MaxErrors errors: later phases mostly
	// repeat what the first errors caused, and a broken file could
	// otherwise produce errors by the hundred thousand.
	for _, phase := range []func(){
		func() { d.decodeNamespaces(in); d.ctx.Variables["namespace"] = namespaceRefs(in.Namespaces) },
		func() { d.decodeGateways(in); d.ctx.Variables["gateway"] = gatewayRefs(in.Gateways) },
		func() { d.decodeServices(in); d.ctx.Variables["service"] = d.serviceRefs(in.Services) },
		func() { d.decodeGatewayClients(in) },
		func() { d.decodeListenerSets(in) },
		func() { d.decodeHTTPRoutes(in) },
		func() { d.decodeGRPCRoutes(in) },
		func() { d.decodeL4Routes(in); d.checkHTTPAttachments(in) },
		func() { d.decodeAllows(in) },
		func() { d.decodeClusterPolicies(in) },
		func() { d.decodeChecks(in) },
		func() { d.decodePassthroughs(in) },
		func() { d.checkServiceDNS(in) },
	} {
		if d.tooManyErrors() {
			break
		}
		phase()
	}
	return in
}

// tooManyErrors reports whether decoding has found MaxErrors errors.
func (d *decoder) tooManyErrors() bool {
	n := 0
	for _, diag := range d.diags {
		if diag.Severity == hcl.DiagError {
			n++
		}
	}
	return n >= MaxErrors
}

// decodeInputs reads variables, environments and locals, and puts var and
// local into the evaluation context. It returns false when values are missing.
func (d *decoder) decodeInputs(in *Intent, opts Options) bool {
	fns := &hcl.EvalContext{Functions: d.ctx.Functions}
	vars := map[string]*variable{}
	for _, b := range d.blocks["variable"] {
		if !d.unique(b) {
			continue
		}
		v, diags := decodeVariable(b, fns)
		d.diags = append(d.diags, diags...)
		vars[v.name] = v
	}
	envs := map[string]*environment{}
	for _, b := range d.blocks["environment"] {
		if !d.unique(b) {
			continue
		}
		e, diags := decodeEnvironment(b, fns, vars)
		d.diags = append(d.diags, diags...)
		envs[e.name] = e
		in.Environments = append(in.Environments, e.name)
	}
	sort.Strings(in.Environments)
	if d.diags.HasErrors() {
		return false
	}
	var env *environment
	if opts.Env == "" && len(in.Environments) > 0 {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No environment chosen",
			Detail: fmt.Sprintf("The intent declares %s, and no --env was given, so the variables' defaults (and --var, --var-file) are used, as in no environment. Pass --env to choose one.",
				describeNames(in.Environments)),
			Subject: d.blocks["environment"][0].DefRange.Ptr()})
	}
	if opts.Env != "" {
		env = envs[opts.Env]
		if env == nil {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown environment",
				Detail: fmt.Sprintf("No environment block is named %q; the intent declares %s.%s",
					opts.Env, describeNames(in.Environments), didYouMean(opts.Env, in.Environments))})
			return false
		}
		in.Environment = env.name
	}
	literals := &hcl.EvalContext{Functions: d.budget.internal()}
	fromFiles, diags := opts.VarFiles.values(vars, literals)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return false
	}
	values, diags := resolveVariables(vars, env, fromFiles, opts.Vars, literals)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return false
	}
	d.ctx.Variables["var"] = values
	locals, diags := decodeLocals(d.blocks["locals"], d.ctx)
	d.diags = append(d.diags, diags...)
	d.ctx.Variables["local"] = locals
	return !d.diags.HasErrors()
}

func describeNames(names []string) string {
	if len(names) == 0 {
		return "no environments"
	}
	return quoteList(names)
}

var perimeterSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "stack", Required: true}, {Name: "description"}, {Name: "state_namespace"}, {Name: "fqdn_egress"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "cluster_dns"}},
}

var podSetSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "namespace", Required: true}, {Name: "selector", Required: true},
}}

// decodeStack reads the single perimeter block.
func (d *decoder) decodeStack(in *Intent) {
	in.ClusterDNS = PodSet{Namespace: "kube-system", Selector: map[string]string{"k8s-app": "kube-dns"}}
	blocks := d.blocks["perimeter"]
	if len(blocks) == 0 {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing perimeter block",
			Detail:  "The intent needs one block `perimeter { stack = \"NAME\" }` naming the stack that owns its objects.",
			Subject: d.firstFile.Ptr()})
		return
	}
	for _, extra := range blocks[1:] {
		d.diags = append(d.diags, errorAt(extra.DefRange, "Duplicate perimeter block",
			"The stack is already declared at %s.", blocks[0].DefRange))
	}
	ctx := &hcl.EvalContext{Functions: d.ctx.Functions}
	r := open(blocks[0].Body, perimeterSchema, ctx, blocks[0].DefRange)
	in.Stack = r.str("stack", "")
	r.str("description", "")
	in.StateNamespace = r.str("state_namespace", "default")
	if msg := validateDNSLabel(in.StateNamespace); msg != "" {
		r.errorf(r.attrRange("state_namespace"), "Invalid state namespace", "%q: %s.", in.StateNamespace, msg)
	}
	if msg := validateDNSLabel(in.Stack); in.Stack != "" && msg != "" {
		r.errorf(r.attrRange("stack"), "Invalid stack name", "The stack name labels every object, so it must be a DNS label: %s.", msg)
	}
	in.FQDNEgress = fqdnEgress(r)
	for _, b := range r.blocks {
		in.ClusterDNS = d.podSet(b, ctx)
	}
	d.diags = append(d.diags, r.diags...)
}

func (d *decoder) podSet(b *hcl.Block, ctx *hcl.EvalContext) PodSet {
	r := open(b.Body, podSetSchema, ctx, b.DefRange)
	ps := PodSet{Namespace: r.str("namespace", ""), Selector: r.strMap("selector")}
	if msg := validateDNSLabel(ps.Namespace); ps.Namespace != "" && msg != "" {
		r.errorf(r.attrRange("namespace"), "Invalid namespace", "%q: %s.", ps.Namespace, msg)
	}
	d.checkSelector(r, "selector", ps.Selector, true)
	d.diags = append(d.diags, r.diags...)
	return ps
}

func (d *decoder) checkSelector(r *body, attr string, sel map[string]string, needed bool) {
	if !r.has(attr) {
		return
	}
	if needed && len(sel) == 0 && !r.diags.HasErrors() {
		r.errorf(r.attrRange(attr), "Empty selector", "%q must name at least one label; an empty selector matches every pod.", attr)
	}
	for _, k := range sortedKeys(sel) {
		if msg := validateLabel(k, sel[k]); msg != "" {
			r.errorf(r.attrRange(attr), "Invalid label selector", "%s.", msg)
		}
	}
}

// unique records a labelled block and reports a duplicate.
func (d *decoder) unique(b *hcl.Block) bool {
	key := b.Type + "." + b.Labels[0]
	if first, ok := d.seen[key]; ok {
		d.diags = append(d.diags, errorAt(b.LabelRanges[0], fmt.Sprintf("Duplicate %s block", b.Type),
			"A %s named %q is already defined at %s.", b.Type, b.Labels[0], first))
		return false
	}
	d.seen[key] = b.DefRange
	return true
}

// referable checks that a block's label can be used in references.
func (d *decoder) referable(b *hcl.Block) bool {
	if hclsyntax.ValidIdentifier(b.Labels[0]) {
		return true
	}
	d.diags = append(d.diags, errorAt(b.LabelRanges[0], "Invalid block name",
		"%s blocks are referred to as %s.NAME, so %q must be an identifier: letters, digits, '_' and '-', starting with a letter.",
		b.Type, b.Type, b.Labels[0]))
	return false
}

func origin(b *hcl.Block) Origin {
	return Origin{Block: fmt.Sprintf("%s %q", b.Type, b.Labels[0]), Range: b.DefRange}
}

func refObject[T any](items []T, entry func(T) (string, cty.Value)) cty.Value {
	m := map[string]cty.Value{}
	for _, it := range items {
		k, v := entry(it)
		m[k] = v
	}
	return objectOrEmpty(m)
}

// EnvironmentNames lists the environments the intent declares, sorted,
// without resolving any values.
func EnvironmentNames(src *Sources) []string {
	var names []string
	seen := map[string]bool{}
	for _, b := range src.bodies() {
		content, _ := b.Content(rootSchema)
		for _, blk := range content.Blocks {
			if blk.Type == "environment" && !seen[blk.Labels[0]] {
				seen[blk.Labels[0]] = true
				names = append(names, blk.Labels[0])
			}
		}
	}
	sort.Strings(names)
	return names
}
