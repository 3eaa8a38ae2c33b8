package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// printTable writes one Markdown table: a row per operation and tool with
// min and median wall time, median CPU, the largest peak RSS, the requests
// and connections of the last round, and the ratios perimeter ÷ kubectl of
// the minimum and median wall times.
func printTable(w io.Writer, n int, delay time.Duration, rounds int, res results) {
	fmt.Fprintf(w, "\nN = %d objects, %v added per round trip (%v each way), %d rounds\n\n", n, 2*delay, delay, rounds)
	fmt.Fprintln(w, "| operation | tool | wall min | wall median | CPU median | server CPU median | peak RSS | requests (last round) | connections | ratio min | ratio median |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, o := range ops {
		byTool := res[o.name]
		for _, tool := range []string{"baseline", "perimeter", "kubectl"} {
			s := byTool[tool]
			if len(s) == 0 {
				continue
			}
			ratioMin, ratioMed := "", ""
			if k := byTool["kubectl"]; tool != "kubectl" && len(k) > 0 {
				ratioMin = fmt.Sprintf("%.2f", float64(minWall(s))/float64(minWall(k)))
				ratioMed = fmt.Sprintf("%.2f", float64(median(s, wallOf))/float64(median(k, wallOf)))
			}
			last := s[len(s)-1]
			fmt.Fprintf(w, "| %s | %s | %v | %v | %v | %v | %d MB | %v | %d | %s | %s |\n", o.name, tool,
				round(minWall(s)), round(median(s, wallOf)), round(median(s, cpuOf)), round(median(s, serverCPUOf)), maxRSS(s)/1024, last.requests, last.connections, ratioMin, ratioMed)
		}
	}
}

func wallOf(s sample) time.Duration { return s.wall }
func cpuOf(s sample) time.Duration  { return s.cpu }

func serverCPUOf(s sample) time.Duration { return s.serverCPU }

func minWall(s []sample) time.Duration {
	m := s[0].wall
	for _, x := range s[1:] {
		m = min(m, x.wall)
	}
	return m
}

// median of an odd count is the middle; of an even count, the lower middle.
func median(s []sample, f func(sample) time.Duration) time.Duration {
	var v []time.Duration
	for _, x := range s {
		v = append(v, f(x))
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

func maxRSS(s []sample) int64 {
	var m int64
	for _, x := range s {
		m = max(m, x.rssKB)
	}
	return m
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
