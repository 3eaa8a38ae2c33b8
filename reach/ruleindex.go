package reach

import (
	"slices"
	"sync"
)

// ruleIndexMin is the number of rules from which a policy's rules are
// looked up by peer rather than all matched: below it, matching them all
// is cheaper than the lookup. A variable for the tests, which index every
// policy.
var ruleIndexMin = 16

// ruleIndex finds the rules of one direction of a policy whose peers may
// be a given pod: a gateway's proxy policy holds one rule per backend, and
// asking about each backend matched every rule (4,000 routes: 16 million
// matches, 2.5 s of a plan). A rule is filed under a single-value
// requirement (app=x) of each of its peers' pod selectors; a rule with a
// peer without one (every pod, an ipBlock, which pods' addresses may fall
// in, a domain name) or with no peer at all is always matched. A rule is
// left out only when none of its peers can select the pod (its label
// gives the key another value, or its labels are all known and lack it),
// and such a rule adds nothing to a verdict (addRule).
type ruleIndex struct {
	always []int
	byKey  map[string]map[string][]int // requirement key -> value -> rules
}

// rulesIndexes holds a compiled policy's two indexes, made on first use.
type rulesIndexes struct {
	once    sync.Once
	in, out *ruleIndex
}

func indexRules(rules []rule) *ruleIndex {
	idx := &ruleIndex{byKey: map[string]map[string][]int{}}
	for i, r := range rules {
		if !filable(r) {
			idx.always = append(idx.always, i)
			continue
		}
		for _, p := range r.peers {
			key, value, _ := selectorValue(p.pods)
			if idx.byKey[key] == nil {
				idx.byKey[key] = map[string][]int{}
			}
			if at := idx.byKey[key][value]; len(at) == 0 || at[len(at)-1] != i {
				idx.byKey[key][value] = append(at, i)
			}
		}
	}
	return idx
}

// filable reports whether every peer of r selects pods by a label value.
func filable(r rule) bool {
	if len(r.peers) == 0 {
		return false
	}
	for _, p := range r.peers {
		if p.block != nil || len(p.names) > 0 {
			return false
		}
		if _, _, ok := selectorValue(p.pods); !ok {
			return false
		}
	}
	return true
}

// rulesFor are the positions of the rules of one direction of c that may
// admit other, in order: all of them for an address or a name, or when
// the policy has few rules.
func (c *compiled) rulesFor(dir Direction, other Peer) []int {
	rules := c.inRules
	if dir == Egress {
		rules = c.outRules
	}
	if other.Pod == nil || len(rules) < ruleIndexMin {
		all := make([]int, len(rules))
		for i := range all {
			all[i] = i
		}
		return all
	}
	c.ruleIdx.once.Do(func() { c.ruleIdx.in, c.ruleIdx.out = indexRules(c.inRules), indexRules(c.outRules) })
	idx := c.ruleIdx.in
	if dir == Egress {
		idx = c.ruleIdx.out
	}
	pos := slices.Clone(idx.always)
	for key, byValue := range idx.byKey {
		if v, has := other.Pod.Labels[key]; has {
			pos = append(pos, byValue[v]...)
		} else if other.Pod.LabelsOpen {
			for _, at := range byValue {
				pos = append(pos, at...)
			}
		}
	}
	slices.Sort(pos)
	return slices.Compact(pos)
}
