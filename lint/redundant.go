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
	idx := newCoverIndex(rules)
	var out []Finding
	for i, a := range rules {
		for _, j := range idx.candidates(i, a) {
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

// selectorKeys are the buckets (bucketKey) whose rules' policies may
// select every pod sel selects (see selectsSuperset): every pod, the same
// expressions, or a subset of its labels, which includes one of them.
func selectorKeys(sel metav1.LabelSelector) []string {
	keys := []string{""}
	if len(sel.MatchExpressions) > 0 {
		return append(keys, "expr:"+metav1.FormatLabelSelector(&sel))
	}
	for k, v := range sel.MatchLabels {
		keys = append(keys, k+"="+v)
	}
	return keys
}

// coverIndex finds the rules of one namespace and direction that may
// cover a given rule, without comparing it with all of them. A rule b
// covers rule a only if b's policy may select a's pods (the selector
// buckets) and b admits every peer (it lists none) or one of b's peers
// covers a's first: the same peer, or an ipBlock containing it
// (anyPeerCovers). The smaller of the two lists is walked and filtered by
// the other condition: a gateway's proxy policy holds one rule per
// backend, all in one selector bucket (2,000 backends made 4 million
// comparisons), while the DNS rules of 5,000 services share one peer.
type coverIndex struct {
	buckets  map[string][]int // rules by bucketKey of their policy's selector
	bucketOf []string
	// rules that list no peer, rules by each peer they list (peerKey),
	// and rules listing an ipBlock
	everyPeer []int
	byPeer    map[string][]int
	blocks    []int
	peerKeys  [][]string
	hasBlock  []bool
	noPeer    []bool
}

func newCoverIndex(rules []ruleRef) *coverIndex {
	x := &coverIndex{buckets: map[string][]int{}, byPeer: map[string][]int{}, bucketOf: make([]string, len(rules)),
		peerKeys: make([][]string, len(rules)), hasBlock: make([]bool, len(rules)), noPeer: make([]bool, len(rules))}
	for j, r := range rules {
		x.bucketOf[j] = bucketKey(r.p.np.Spec.PodSelector)
		x.buckets[x.bucketOf[j]] = append(x.buckets[x.bucketOf[j]], j)
		if len(r.peers) == 0 {
			x.noPeer[j] = true
			x.everyPeer = append(x.everyPeer, j)
			continue
		}
		for _, p := range r.peers {
			k := peerKey(p)
			x.peerKeys[j] = append(x.peerKeys[j], k)
			if at := x.byPeer[k]; len(at) == 0 || at[len(at)-1] != j {
				x.byPeer[k] = append(at, j)
			}
			x.hasBlock[j] = x.hasBlock[j] || p.IPBlock != nil
		}
		if x.hasBlock[j] {
			x.blocks = append(x.blocks, j)
		}
	}
	return x
}

// candidates are the rules that may cover rule i, a, in order.
func (x *coverIndex) candidates(i int, a ruleRef) []int {
	skeys := selectorKeys(a.p.np.Spec.PodSelector)
	bySelector, bySel := [][]int{}, 0
	for _, k := range skeys {
		bySelector = append(bySelector, x.buckets[k])
		bySel += len(x.buckets[k])
	}
	first, block := "", false
	byPeer := [][]int{x.everyPeer}
	if len(a.peers) > 0 {
		first, block = x.peerKeys[i][0], a.peers[0].IPBlock != nil
		byPeer = append(byPeer, x.byPeer[first])
		if block {
			byPeer = append(byPeer, x.blocks)
		}
	}
	byPeerN := 0
	for _, l := range byPeer {
		byPeerN += len(l)
	}
	var out []int
	if bySel <= byPeerN {
		for _, l := range bySelector {
			for _, j := range l {
				if x.noPeer[j] || (first != "" && (slices.Contains(x.peerKeys[j], first) || (block && x.hasBlock[j]))) {
					out = append(out, j)
				}
			}
		}
	} else {
		for _, l := range byPeer {
			for _, j := range l {
				if slices.Contains(skeys, x.bucketOf[j]) {
					out = append(out, j)
				}
			}
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
		return "?" // cannot happen for these types; "?" only groups more rules together
	}
	return string(b)
}
