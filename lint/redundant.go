package lint

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/perimeter-dev/perimeter/reach"
)

// policy is a NetworkPolicy with the object it was read from.
type policy struct {
	obj *unstructured.Unstructured
	np  networkingv1.NetworkPolicy
}

// policiesOf converts the NetworkPolicies among objs, sorted by
// namespace/name; ones that do not convert are skipped.
func policiesOf(objs []*unstructured.Unstructured, t *reach.Typed) []*policy {
	var out []*policy
	for _, o := range objs {
		if o.GroupVersionKind().GroupKind().String() != "NetworkPolicy.networking.k8s.io" {
			continue
		}
		if np, err := t.NetworkPolicy(o); err == nil {
			out = append(out, &policy{obj: o, np: *np})
		}
	}
	return sortedBy(out, func(p *policy) string { return objectID(p.obj) }, func(a, b string) bool { return a < b })
}

// sortedBy is a stable sort of policies by less on their keys, each key
// computed once (not in every comparison: at 5,000 policies the
// annotations and names read in the comparisons were a tenth of the
// lints' CPU).
func sortedBy(policies []*policy, key func(*policy) string, less func(a, b string) bool) []*policy {
	type keyed struct {
		p *policy
		k string
	}
	ks := make([]keyed, len(policies))
	for i, p := range policies {
		ks[i] = keyed{p, key(p)}
	}
	sort.SliceStable(ks, func(i, j int) bool { return less(ks[i].k, ks[j].k) })
	out := make([]*policy, len(ks))
	for i, k := range ks {
		out[i] = k.p
	}
	return out
}

// ruleRef is one rule of a policy in one direction.
type ruleRef struct {
	p     *policy
	dir   reach.Direction
	index int
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

func rulesOf(p *policy) []ruleRef {
	var out []ruleRef
	in, eg := reach.EffectiveTypes(p.np.Spec)
	if in {
		for i, r := range p.np.Spec.Ingress {
			out = append(out, ruleRef{p, reach.Ingress, i, r.From, r.Ports})
		}
	}
	if eg {
		for i, r := range p.np.Spec.Egress {
			out = append(out, ruleRef{p, reach.Egress, i, r.To, r.Ports})
		}
	}
	return out
}

// redundant reports each rule that a broader rule of another (or the same)
// policy in the namespace already admits: it selects at least the same pods
// and admits at least the same peers and ports. Of two identical rules, the
// one from the later HCL block (or, without one, the later policy by
// namespace/name) is reported. report filters the pairs (redundant, broader).
func redundant(policies []*policy, ranges map[string]hcl.Range, report func(a, b *policy) bool) []Finding {
	ordered := sortedBy(policies, func(p *policy) string { return sourceOf(p.obj) }, sourceLess)
	groups := map[string][]ruleRef{} // namespace and direction -> rules
	var keys []string
	for _, p := range ordered {
		for _, r := range rulesOf(p) {
			k := p.np.Namespace + "/" + string(r.dir)
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], r)
		}
	}
	var out []Finding
	for _, k := range keys {
		out = append(out, redundantIn(groups[k], ranges, report)...)
	}
	return out
}

// redundantIn compares the rules of one namespace and direction: each rule
// with those whose policy may select a superset of its pods.
func redundantIn(rules []ruleRef, ranges map[string]hcl.Range, report func(a, b *policy) bool) []Finding {
	buckets := map[string][]int{}
	for j, b := range rules {
		k := bucketKey(b.p.np.Spec.PodSelector)
		buckets[k] = append(buckets[k], j)
	}
	peers := indexPeers(rules)
	var out []Finding
	for i, a := range rules {
		for _, j := range intersect(candidates(a.p.np.Spec.PodSelector, buckets), peers.candidates(a)) {
			b := rules[j]
			if i == j || !covers(b, a) || (covers(a, b) && j > i) || !report(a.p, b.p) {
				continue
			}
			out = append(out, redundantFinding(a, b, ranges))
			break
		}
	}
	return out
}

// redundantFinding reports rule a as admitting nothing rule b does not.
func redundantFinding(a, b ruleRef, ranges map[string]hcl.Range) Finding {
	return objectFinding(a.p.obj, ranges, "Redundant rule",
		"%s rule %d admits nothing that %s rule %d of %s does not already admit.",
		lower(a.dir), a.index, lower(b.dir), b.index, objectID(b.p.obj))
}

func lower(d reach.Direction) string {
	if d == reach.Ingress {
		return "ingress"
	}
	return "egress"
}

// covers reports whether rule b admits everything rule a does.
func covers(b, a ruleRef) bool {
	return selectsSuperset(b.p.np, a.p.np) && peersCover(b.peers, a.peers) && portsCover(b.ports, a.ports)
}

// selectsSuperset reports whether policy b selects every pod a selects
// (judged from matchLabels; selectors with expressions must be equal).
func selectsSuperset(b, a networkingv1.NetworkPolicy) bool {
	bs, as := b.Spec.PodSelector, a.Spec.PodSelector
	if len(bs.MatchExpressions) == 0 && len(bs.MatchLabels) == 0 {
		return true
	}
	if len(bs.MatchExpressions) > 0 || len(as.MatchExpressions) > 0 {
		return reflect.DeepEqual(bs, as)
	}
	return subset(bs.MatchLabels, as.MatchLabels)
}

// subset reports whether every label of small is in big.
func subset(small, big map[string]string) bool {
	for k, v := range small {
		if w, ok := big[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func peersCover(b, a []networkingv1.NetworkPolicyPeer) bool {
	if len(b) == 0 {
		return true
	}
	if len(a) == 0 {
		return false
	}
	for _, pa := range a {
		if !anyPeerCovers(b, pa) {
			return false
		}
	}
	return true
}

func anyPeerCovers(b []networkingv1.NetworkPolicyPeer, pa networkingv1.NetworkPolicyPeer) bool {
	for _, pb := range b {
		if reflect.DeepEqual(pb, pa) || blockCovers(pb.IPBlock, pa.IPBlock) {
			return true
		}
	}
	return false
}

// blockCovers reports whether ipBlock b (without exceptions) contains a.
func blockCovers(b, a *networkingv1.IPBlock) bool {
	if b == nil || a == nil || len(b.Except) > 0 {
		return false
	}
	pb, err1 := netip.ParsePrefix(b.CIDR)
	pa, err2 := netip.ParsePrefix(a.CIDR)
	return err1 == nil && err2 == nil && pb.Bits() <= pa.Bits() && pb.Masked().Contains(pa.Addr())
}

func portsCover(b, a []networkingv1.NetworkPolicyPort) bool {
	if len(b) == 0 {
		return true
	}
	if len(a) == 0 {
		return false
	}
	for _, pa := range a {
		found := false
		for _, pb := range b {
			found = found || portCovers(pb, pa)
		}
		if !found {
			return false
		}
	}
	return true
}

func portCovers(b, a networkingv1.NetworkPolicyPort) bool {
	if protocolOf(b.Protocol) != protocolOf(a.Protocol) {
		return false
	}
	switch {
	case b.Port == nil:
		return true
	case a.Port == nil:
		return false
	case b.Port.Type == intstr.String || a.Port.Type == intstr.String:
		return b.Port.Type == a.Port.Type && b.Port.StrVal == a.Port.StrVal && b.EndPort == nil && a.EndPort == nil
	}
	bLo, bHi := portRange(b)
	aLo, aHi := portRange(a)
	return bLo <= aLo && aHi <= bHi
}

func portRange(p networkingv1.NetworkPolicyPort) (int32, int32) {
	if p.EndPort != nil {
		return p.Port.IntVal, *p.EndPort
	}
	return p.Port.IntVal, p.Port.IntVal
}

func protocolOf(p *corev1.Protocol) corev1.Protocol {
	if p == nil || *p == "" {
		return corev1.ProtocolTCP
	}
	return *p
}

// sourceLess orders "file:line" sources by file, then line number; objects
// without a source come after those with one.
func sourceLess(a, b string) bool {
	if a == "" || b == "" {
		return a != "" && b == ""
	}
	af, al := splitSource(a)
	bf, bl := splitSource(b)
	if af != bf {
		return af < bf
	}
	return al < bl
}

func splitSource(s string) (string, int) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return s, 0
	}
	n, _ := strconv.Atoi(s[i+1:])
	return s[:i], n
}

// bucketKey indexes a policy selector: "" for one selecting every pod, the
// whole selector for one with expressions, else its first label.
func bucketKey(sel metav1.LabelSelector) string {
	if len(sel.MatchExpressions) > 0 {
		return "expr:" + metav1.FormatLabelSelector(&sel)
	}
	keys := make([]string, 0, len(sel.MatchLabels))
	for k, v := range sel.MatchLabels {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// candidates lists, in order, the rules whose policy selector may select
// every pod sel selects (see selectsSuperset).
func candidates(sel metav1.LabelSelector, buckets map[string][]int) []int {
	out := append([]int(nil), buckets[""]...)
	if len(sel.MatchExpressions) > 0 {
		out = append(out, buckets["expr:"+metav1.FormatLabelSelector(&sel)]...)
	} else {
		for k, v := range sel.MatchLabels {
			out = append(out, buckets[k+"="+v]...)
		}
	}
	sort.Ints(out)
	return slices.Compact(out)
}

// peerIndex lists the rules that may admit a given peer, so that the rules
// of one policy are not all compared with each other: a gateway's proxy
// policy holds one egress rule per backend, and 2,000 backends made 4
// million comparisons (2 s of a plan). A rule b covers rule a only if b
// admits every peer (it lists none) or one of b's peers covers a's first:
// the same peer, or an ipBlock containing it (anyPeerCovers).
type peerIndex struct {
	everyPeer []int            // rules that list no peer
	byPeer    map[string][]int // rules by each peer they list (peerKey)
	blocks    []int            // rules listing an ipBlock peer
}

func indexPeers(rules []ruleRef) peerIndex {
	idx := peerIndex{byPeer: map[string][]int{}}
	for j, r := range rules {
		if len(r.peers) == 0 {
			idx.everyPeer = append(idx.everyPeer, j)
			continue
		}
		hasBlock := false
		for _, p := range r.peers {
			k := peerKey(p)
			if n := len(idx.byPeer[k]); n == 0 || idx.byPeer[k][n-1] != j {
				idx.byPeer[k] = append(idx.byPeer[k], j)
			}
			hasBlock = hasBlock || p.IPBlock != nil
		}
		if hasBlock {
			idx.blocks = append(idx.blocks, j)
		}
	}
	return idx
}

// candidates are the rules that may cover rule a's peers, in order.
func (idx peerIndex) candidates(a ruleRef) []int {
	out := slices.Clone(idx.everyPeer)
	if len(a.peers) > 0 {
		out = append(out, idx.byPeer[peerKey(a.peers[0])]...)
		if a.peers[0].IPBlock != nil {
			out = append(out, idx.blocks...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// peerKey names a peer by its JSON: equal peers (reflect.DeepEqual, as
// anyPeerCovers compares them) have equal keys.
func peerKey(p networkingv1.NetworkPolicyPeer) string {
	b, err := json.Marshal(p)
	if err != nil {
		return "" // cannot happen for these types; "" only groups more rules together
	}
	return string(b)
}

// intersect is the indices in both sorted lists, in order.
func intersect(a, b []int) []int {
	var out []int
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}
