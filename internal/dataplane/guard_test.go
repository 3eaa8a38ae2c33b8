package dataplane

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGuardSeesChanges: the snapshot ignores counters and timestamps but
// not a rule, and Diff names what changed.
func TestGuardSeesChanges(t *testing.T) {
	before := RootState{"iptables-save": normalise("# Generated on Mon\n*filter\n:INPUT ACCEPT [12:340]\nCOMMIT\n")}
	same := RootState{"iptables-save": normalise("# Generated on Tue\n*filter\n:INPUT ACCEPT [99:1000]\nCOMMIT\n")}
	if d := before.Diff(same); d != "" {
		t.Errorf("counters and comments count as a change:\n%s", d)
	}
	changed := RootState{"iptables-save": normalise("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j KUBE-ROUTER-INPUT\nCOMMIT\n")}
	if d := before.Diff(changed); !strings.Contains(d, "KUBE-ROUTER-INPUT") {
		t.Errorf("a new rule is not reported: %q", d)
	}
}

// TestRefusesRootNamespace: the check that guards kube-router says "root"
// when this process's namespace is the one the sandbox was started from.
func TestRefusesRootNamespace(t *testing.T) {
	self, err := netnsInode("/proc/self/ns/net")
	must(t, err)
	t.Setenv(envRootNetns, fmt.Sprint(self))
	if err := mustBeSandboxed("start kube-router"); err == nil || !strings.Contains(err.Error(), "root network namespace") {
		t.Fatalf("mustBeSandboxed in the starting namespace: %v", err)
	}
	if _, err := startKubeRouter("/bin/true", "", t.TempDir()+"/log"); err == nil {
		t.Fatal("startKubeRouter started in the starting namespace")
	}
	t.Setenv(envRootNetns, "")
	if _, err := netnsInode("/proc/1/ns/net"); err != nil {
		if err := mustBeSandboxed("x"); err == nil {
			t.Fatal("without a known root namespace the check must refuse")
		}
	}
}

// TestRemoveStale: a namespace whose run (pid) is gone is removed; one of
// a live run is kept.
func TestRemoveStale(t *testing.T) {
	Get(t) // only inside the node namespace, as root
	dead := 0
	for pid := 4000000; pid > 1000; pid -= 7919 {
		if err := unix.Kill(pid, 0); err == unix.ESRCH {
			dead = pid
			break
		}
	}
	if dead == 0 {
		t.Fatal("no unused pid found")
	}
	staleName := fmt.Sprintf("%s%d-test", Prefix, dead)
	liveName := fmt.Sprintf("%s%d-test", Prefix, os.Getpid())
	must(t, addNetns(staleName))
	must(t, addNetns(liveName))
	defer func() { _ = delNetns(liveName); _ = delNetns(staleName) }()
	removed, err := RemoveStale()
	must(t, err)
	if !contains(removed, staleName) || contains(removed, liveName) {
		t.Fatalf("removed %v; want %s and not %s", removed, staleName, liveName)
	}
	if _, err := os.Stat(netnsPath(staleName)); !os.IsNotExist(err) {
		t.Fatalf("%s is still there: %v", staleName, err)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
