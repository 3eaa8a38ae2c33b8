package plan

import (
	"slices"
	"strings"
)

// maxIndexedLabels bounds the labels of a selector whose subsets
// coverers looks up one by one (2^n lookups); a selector with more is
// compared with every isolation of its namespace and direction instead.
const maxIndexedLabels = 10

// coverers answers which isolations of a list cover a given one, without
// comparing it with every one: a plan of 10,000 policies without a
// default deny compared 50 million pairs, 10 s at 5,000. A set s is
// covered by o when they share namespace and direction and either o is s
// (the same key) or o has no expressions and its labels are a subset of
// s's (covers). So the coverers of s are found by looking up each subset
// of s's labels.
type coverers struct {
	keys map[string]bool // every isolation's key
	// plain maps namespace, direction and sorted labels of each isolation
	// without expressions to its key
	plain map[string]string
	// byGroup lists the isolations of each namespace and direction, for
	// selectors with too many labels to look up their subsets
	byGroup map[string][]isolation
}

func newCoverers(all []isolation) coverers {
	c := coverers{keys: map[string]bool{}, plain: map[string]string{}, byGroup: map[string][]isolation{}}
	for _, s := range all {
		c.keys[s.key()] = true
		if s.exprs == "" {
			c.plain[labelSignature(s, sortedLabelKeys(s.labels))] = s.key()
		}
		g := s.direction + "\x00" + s.namespace
		c.byGroup[g] = append(c.byGroup[g], s)
	}
	return c
}

// covered reports whether an isolation of the list covers s; with
// others, one other than s itself (another key).
func (c coverers) covered(s isolation, others bool) bool {
	key := s.key()
	if !others && c.keys[key] {
		return true
	}
	names := sortedLabelKeys(s.labels)
	if len(names) > maxIndexedLabels {
		for _, o := range c.byGroup[s.direction+"\x00"+s.namespace] {
			if o.covers(s) && (!others || o.key() != key) {
				return true
			}
		}
		return false
	}
	subset := make([]string, 0, len(names))
	for mask := 0; mask < 1<<len(names); mask++ {
		subset = subset[:0]
		for i, n := range names {
			if mask&(1<<i) != 0 {
				subset = append(subset, n)
			}
		}
		if k, ok := c.plain[labelSignature(s, subset)]; ok && (!others || k != key) {
			return true
		}
	}
	return false
}

func sortedLabelKeys(labels map[string]string) []string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// labelSignature names s's namespace and direction with the labels
// names of s (sorted), their values taken from s.
func labelSignature(s isolation, names []string) string {
	var b strings.Builder
	b.WriteString(s.direction)
	b.WriteByte(0)
	b.WriteString(s.namespace)
	for _, n := range names {
		b.WriteByte(0)
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(s.labels[n])
	}
	return b.String()
}
