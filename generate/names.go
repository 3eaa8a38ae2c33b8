package generate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameLength keeps generated names valid as label values too (63), which
// some tools and controllers copy names into.
const maxNameLength = 63

// slug turns a block label such as "orders calls users" into a DNS label
// ("orders-calls-users"), stable across runs.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		out = "x" + shortHash(s)
	}
	return out
}

// objectName joins parts with '-' and shortens the result with a hash suffix
// when it would exceed maxNameLength, so long names stay unique and stable.
func objectName(parts ...string) string {
	name := strings.Join(parts, "-")
	if len(name) <= maxNameLength {
		return name
	}
	h := shortHash(name)
	return strings.TrimRight(name[:maxNameLength-len(h)-1], "-") + "-" + h
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}
