package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/lock"
)

// locking is a command's use of the stack lock: whether it takes it, how
// long it waits, and the lock once held (released by release).
type locking struct {
	enabled bool
	timeout time.Duration
	command string
	held    *lock.Lock
	skipped bool // no state namespace to hold the Lease yet
	log     io.Writer
}

func (l *locking) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&l.timeout, "lock-timeout", 0, "wait up to this long (e.g. 5m) for the stack's lock when another run holds it; 0 fails at once, naming the holder")
}

// take acquires the stack's lock through client, unless disabled or
// already held. A state namespace that does not exist yet cannot hold the
// Lease: the first apply, which creates it, runs without the lock, and a
// second first apply fails when it creates the namespace too (creates
// never take over an object that appeared since the plan). Whether the
// namespace exists is learnt from creating the Lease (NotFound names the
// namespace), not read before: one round trip fewer.
func (l *locking) take(ctx context.Context, client *cluster.Client, stack, namespace, env string) error {
	if l == nil || !l.enabled || l.held != nil || l.skipped {
		return nil
	}
	host, _ := os.Hostname()
	holder := lock.Holder{ID: lock.NewID(), Host: host, User: client.User, Environment: env, Command: l.command, Started: time.Now()}
	opts := lock.Options{Timeout: l.timeout, Waiting: func(e *lock.HeldError) {
		fmt.Fprintf(l.log, "Waiting up to %v for the lock of stack %q, held by %s\n", l.timeout, stack, e.Holder.Describe())
	}}
	held, err := lock.Acquire(ctx, client, namespace, stack, holder, opts)
	if lock.NoNamespace(err) {
		l.skipped = true
		fmt.Fprintf(l.log, "State namespace %s does not exist yet: this first %s runs without the stack lock.\n", namespace, l.command)
		return nil
	}
	if err != nil {
		return err
	}
	l.held = held
	fmt.Fprintf(l.log, "Locked stack %q (lock ID %s, Lease %s/%s)\n", stack, held.ID(), namespace, lock.Name(stack))
	return nil
}

// guard is checked before every write: nil while the lock is held (or
// none is taken).
func (l *locking) guard() error {
	if l == nil || l.held == nil {
		return nil
	}
	return l.held.Err()
}

// release gives the lock back, on success, failure and interrupt alike;
// its own context, since the command's may have been cancelled by Ctrl-C.
func (l *locking) release() {
	if l == nil || l.held == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := l.held.Release(ctx); err != nil {
		fmt.Fprintf(l.log, "Warning: %v\n", err)
	}
	l.held = nil
}

// withInterrupt makes the first Ctrl-C or SIGTERM cancel the command's
// context instead of killing the process, so the run stops writing and
// releases the lock on the way out (a second one kills).
func withInterrupt(cmd *cobra.Command) func() {
	ctx, stop := interruptible(cmd)
	cmd.SetContext(ctx)
	return stop
}

func newForceUnlock() *cobra.Command {
	var cf compileFlags
	var kf clusterFlags
	cmd := &cobra.Command{
		Use:   "force-unlock ID [DIR]",
		Short: "Release the lock of a run that crashed",
		Long: `force-unlock deletes the lock (a Lease perimeter-lock-<stack> in the state
namespace) of the stack in DIR, but only when it is held by lock ID: the ID
printed by the run that took it, and named by a run that found it held.
Only do this when that run is no longer running: two runs writing a stack
at once leave it matching neither.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, _, err := compile(cmd, dirArg(args[1:]), cf)
			if err != nil {
				return err
			}
			client, err := kf.connect()
			if err != nil {
				return err
			}
			h, err := lock.ForceUnlock(cmd.Context(), client, in.StateNamespace, in.Stack, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Released the lock of stack %q (Lease %s/%s), held by %s.\n", in.Stack, in.StateNamespace, lock.Name(in.Stack), h.Describe())
			return nil
		},
	}
	cf.register(cmd)
	kf.register(cmd)
	return cmd
}
