package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// auditPolicy records every request once, when its response is complete,
// without bodies: enough to count requests by verb at little cost to the
// server (the same cost for both tools).
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
- level: Metadata
`

// audit counts the requests the API server logged since the last mark.
type audit struct {
	path   string
	offset int64
}

// auditFlags writes the policy into dir and returns the kube-apiserver
// flags of a blocking audit log (each request is logged before its
// response is sent, so counts are complete when a command returns).
func auditFlags(dir string) (map[string]string, *audit, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return nil, nil, err
	}
	a := &audit{path: filepath.Join(dir, "audit.log")}
	return map[string]string{
		"audit-policy-file": policy,
		"audit-log-path":    a.path,
		"audit-log-mode":    "blocking",
		"audit-log-maxsize": "0",
	}, a, nil
}

// mark skips what is logged so far.
func (a *audit) mark() error {
	st, err := os.Stat(a.path)
	if os.IsNotExist(err) {
		a.offset = 0
		return nil
	}
	if err != nil {
		return err
	}
	a.offset = st.Size()
	return nil
}

// counts are requests by verb (get, list, patch, ...) of the clients whose
// user agent starts with agent, since the last mark.
type counts map[string]int

func (c counts) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// String is "1003 (patch 1000, list 2, get 1)": the total, then by verb,
// largest first.
func (c counts) String() string {
	verbs := slices.Sorted(maps.Keys(c))
	slices.SortStableFunc(verbs, func(a, b string) int { return c[b] - c[a] })
	var parts []string
	for _, v := range verbs {
		parts = append(parts, fmt.Sprintf("%s %d", v, c[v]))
	}
	return fmt.Sprintf("%d (%s)", c.total(), strings.Join(parts, ", "))
}

// auditEvent is what the benchmark reads of one audit log line.
type auditEvent struct {
	Verb       string    `json:"verb"`
	UserAgent  string    `json:"userAgent"`
	RequestURI string    `json:"requestURI"`
	Received   time.Time `json:"requestReceivedTimestamp"`
	Stage      time.Time `json:"stageTimestamp"`
	Status     struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// eachSinceMark calls f with every event logged since the last mark by a
// client whose user agent starts with agent, in the order logged.
func (a *audit) eachSinceMark(agent string, f func(auditEvent)) error {
	file, err := os.Open(a.path)
	if err != nil {
		return err
	}
	defer file.Close()
	if _, err := file.Seek(a.offset, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("%s: %v", a.path, err)
		}
		if strings.HasPrefix(ev.UserAgent, agent) {
			f(ev)
		}
	}
	return sc.Err()
}

func (a *audit) since(agent string) (counts, error) {
	out := counts{}
	err := a.eachSinceMark(agent, func(ev auditEvent) {
		if strings.Contains(ev.RequestURI, "dryRun=All") {
			ev.Verb = "dry-run " + ev.Verb
		}
		out[ev.Verb]++
	})
	return out, err
}
