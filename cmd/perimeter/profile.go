package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profile starts the profiles the environment asks for, for measuring
// the CLI as users run it (bench/cluster, docs/benchmarks.md):
// PERIMETER_CPUPROFILE=FILE writes a CPU profile, PERIMETER_MEMPROFILE=FILE
// a heap profile (its alloc_space view shows what each call allocated)
// when the command ends. The returned function stops them.
func profile() func() {
	var stops []func()
	if path := os.Getenv("PERIMETER_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "PERIMETER_CPUPROFILE=%s: %v\n", path, err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("PERIMETER_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 * 1024
		stops = append(stops, func() {
			// the profile is as of the last collection: without one here
			// it would leave out what was allocated since (a plan's last
			// phase, often)
			runtime.GC()
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "PERIMETER_MEMPROFILE=%s: %v\n", path, err)
			}
		})
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}
