package dataplane

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The sentinel: a Pod object on the node without a network of its own (its
// address is never a pod's), and one policy per Sync selecting it.
const (
	sentinelNS    = "default"
	sentinelLabel = "perimeter.dev/sentinel"
	sentinelIP    = "10.244.255.254"
)

// createSentinelPod makes the sentinel pod, Running on the node.
func (sb *Sandbox) createSentinelPod(ctx context.Context) error {
	no := false
	api := sb.Client.CoreV1().Pods(sentinelNS)
	p, err := api.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "perimeter-sentinel", Labels: map[string]string{sentinelLabel: "pod"}},
		Spec:       corev1.PodSpec{NodeName: NodeName, AutomountServiceAccountToken: &no, Containers: []corev1.Container{{Name: "c", Image: "none"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, HostIP: NodeIP.String(), PodIP: sentinelIP, PodIPs: []corev1.PodIP{{IP: sentinelIP}}}
	_, err = api.UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

// newSentinel creates the next sentinel policy, deletes the previous one,
// and returns the new one's name.
func (sb *Sandbox) newSentinel(ctx context.Context) (string, error) {
	sb.mu.Lock()
	sb.sentinel++
	n := sb.sentinel
	sb.mu.Unlock()
	api := sb.Client.NetworkingV1().NetworkPolicies(sentinelNS)
	name := fmt.Sprintf("perimeter-sentinel-%d", n)
	_, err := api.Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{sentinelLabel: "pod"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	if n > 1 {
		if err := ignoreNotFound(api.Delete(ctx, fmt.Sprintf("perimeter-sentinel-%d", n-1), metav1.DeleteOptions{})); err != nil {
			return "", err
		}
	}
	return name, nil
}

// touchSentinel updates the sentinel policy, to request another sync.
func (sb *Sandbox) touchSentinel(ctx context.Context, name string, attempt int) error {
	api := sb.Client.NetworkingV1().NetworkPolicies(sentinelNS)
	cur, err := api.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	cur.Annotations = map[string]string{"perimeter.dev/attempt": strconv.Itoa(attempt)}
	_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// sentinelEnforced reports whether kube-router's ipset of the pods the
// sentinel policy selects exists and holds the sentinel pod's address.
// The name is kube-router v2.1.0's policyDestinationPodIPSetName.
func sentinelEnforced(policy string) bool {
	hash := sha256.Sum256([]byte(sentinelNS + policy + string(corev1.IPv4Protocol)))
	set := "KUBE-DST-" + base32.StdEncoding.EncodeToString(hash[:])[:16]
	out, err := exec.Command("ipset", "list", set).Output()
	return err == nil && strings.Contains(string(out), sentinelIP)
}
