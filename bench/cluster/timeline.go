package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// request is one API request of a command, from the audit log: when the
// server received it and when it answered, relative to the command's
// start (the audit log and the benchmark read the same clock).
type request struct {
	verb, uri   string
	code        int
	start, done time.Duration
}

// requestsSince reads the requests of the clients whose user agent starts
// with agent, logged since the last mark, in the order received.
func (a *audit) requestsSince(agent string, started time.Time) ([]request, error) {
	var out []request
	err := a.eachSinceMark(agent, func(ev auditEvent) {
		out = append(out, request{verb: ev.Verb, uri: ev.RequestURI, code: ev.Status.Code,
			start: ev.Received.Sub(started), done: ev.Stage.Sub(started)})
	})
	slices.SortStableFunc(out, func(a, b request) int { return int(a.start - b.start) })
	return out, err
}

// printTimeline writes a command's requests in the order the server
// received them, runs of the same verb on the same collection folded into
// one line when longer than foldAbove (count, first start, last answer, most in flight), and the
// command's end: where the serial round trips before the first write and
// after the last one are.
// foldAbove is the longest run of requests printed one by one.
const foldAbove = 4

func printTimeline(w io.Writer, reqs []request, wall time.Duration) {
	for i := 0; i < len(reqs); {
		j := i + 1
		for j < len(reqs) && reqs[j].verb == reqs[i].verb && collection(reqs[j].uri) == collection(reqs[i].uri) {
			j++
		}
		run := reqs[i:j]
		end := run[0].done
		for _, r := range run {
			end = max(end, r.done)
		}
		if len(run) <= foldAbove {
			for _, r := range run {
				fmt.Fprintf(w, "  %7s %7s  %-6s %d %s\n", ms(r.start), ms(r.done), r.verb, r.code, trimURI(r.uri))
			}
		} else {
			fmt.Fprintf(w, "  %7s %7s  %-6s ×%d (≤%d in flight) %s\n", ms(run[0].start), ms(end), run[0].verb, len(run), inFlight(run), collection(run[0].uri))
		}
		i = j
	}
	fmt.Fprintf(w, "  %7s          exit\n", ms(wall))
}

// collection is a request's path without its last segment (the name) and
// query: requests to objects of one kind in one namespace share it.
func collection(uri string) string {
	path, _, _ := strings.Cut(uri, "?")
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return path
}

func trimURI(uri string) string {
	if len(uri) > 110 {
		return uri[:110] + "…"
	}
	return uri
}

// inFlight is the largest number of requests of run the server was
// handling at once.
func inFlight(run []request) int {
	most := 0
	for _, r := range run {
		n := 0
		for _, o := range run {
			if o.start <= r.start && o.done > r.start {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }
