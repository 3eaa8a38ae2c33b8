package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
)

// digestPrefix names the algorithm, so a later format can change it.
const digestPrefix = "sha256:"

// ContentDigest is the SHA-256 of the plan's canonical JSON without its
// Digest field: encoding/json writes struct fields in declaration order and
// map keys sorted, and a read plan keeps its numbers as written
// (json.Number), so the same contents always give the same bytes. It
// catches accidental edits and truncation; it is no protection against
// someone who edits the file and recomputes it, which is why apply also
// checks what the plan writes (CheckScope) and where (CheckCluster).
func (p *Plan) ContentDigest() string {
	c := *p
	c.Digest = ""
	b, err := json.Marshal(&c)
	if err != nil {
		// Only unmarshalable values (NaN, channels) fail, which a plan
		// never holds; an empty digest then never matches.
		return ""
	}
	sum := sha256.Sum256(b)
	return digestPrefix + hex.EncodeToString(sum[:])
}

// checkDigest refuses a plan without a digest or whose contents no longer
// match it.
func (p *Plan) checkDigest() error {
	switch {
	case p.Digest == "":
		return errors.New("the plan records no digest of its contents; a plan is short-lived: run plan --out again")
	case p.Digest != p.ContentDigest():
		return errors.New("its contents do not match its digest: the plan file was modified or truncated after it was made; run plan --out again")
	}
	return nil
}

// IntentDigest is the SHA-256 over the intent's files, by name in sorted
// order, each as its name, a NUL byte, its length and its bytes, so no two
// different sets of files give the same input.
func IntentDigest(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b := files[n]
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(lengthPrefix(len(b))))
		h.Write(b)
	}
	return digestPrefix + hex.EncodeToString(h.Sum(nil))
}

// lengthPrefix is a file's length as a fixed-width field of the digest input.
func lengthPrefix(n int) string {
	b, _ := json.Marshal(n)
	return string(b) + "\x00"
}
