package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestHeadroomLimit(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name           string
		live, overhead uint64
		want           int64
	}{
		{"small heap: the minimum headroom", 10 * mib, 20 * mib, (10 + 20 + 64) * mib},
		{"at the switch", 256 * mib, 20 * mib, (256 + 20 + 64) * mib},
		{"large heap: a quarter of it", 1024 * mib, 20 * mib, (1024 + 20 + 256) * mib},
		{"figures that would wrap", math.MaxUint64 - mib, 20 * mib, math.MaxInt64},
		{"figures past int64", math.MaxInt64, 0, math.MaxInt64},
	} {
		if got := headroomLimit(tc.live, tc.overhead); got != tc.want {
			t.Errorf("%s: headroomLimit(%d, %d) = %d, want %d", tc.name, tc.live, tc.overhead, got, tc.want)
		}
	}
}

// currentLimit reads the soft memory limit without changing it.
func currentLimit() int64 { return debug.SetMemoryLimit(-1) }

// waitForLimit collects until the policy's finalizer has set a limit.
func waitForLimit(t *testing.T) int64 {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		if l := currentLimit(); l != math.MaxInt64 {
			return l
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no memory limit set after collections")
	return 0
}

func TestLimitHeadroomFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	// the runtime read GOMEMLIMIT when the process started: start from none
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	stop := limitHeadroom()
	defer stop()
	small := waitForLimit(t)
	held := make([]byte, 256<<20) // live from here on
	for i := range held {
		held[i] = 1
	}
	var large int64
	for deadline := time.Now().Add(5 * time.Second); large < small+200<<20 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		large = currentLimit()
	}
	// live grew by 256 MiB: the limit follows it, with at least the
	// minimum headroom over it
	if large < small+256<<20 || large < int64(len(held))+minHeadroom {
		t.Errorf("limit %d MiB with 256 MiB more live, %d MiB before: want it raised by the live heap", large>>20, small>>20)
	}
	runtime.KeepAlive(held)
	stop()
	if l := currentLimit(); l != math.MaxInt64 {
		t.Errorf("limit %d after stop, want none", l)
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	runtime.GC()
	if l := currentLimit(); l != math.MaxInt64 {
		t.Errorf("limit %d set again after stop", l)
	}
}

func TestLimitHeadroomLeavesTheUsersSettings(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			t.Setenv(env, "200")
			before := currentLimit()
			stop := limitHeadroom()
			for range 3 {
				runtime.GC()
				time.Sleep(10 * time.Millisecond)
			}
			if l := currentLimit(); l != before {
				t.Errorf("limit %d with %s set, want %d (the runtime's, from the user)", l, env, before)
			}
			stop()
		})
	}
}
