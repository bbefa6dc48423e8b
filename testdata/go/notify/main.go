// notify: os/signal in one process: signals the program sends itself with kill(2) (syscall.Kill) and
// tgkill(2) (syscall.Tgkill to its own locked thread) reach signal.Notify channels; signal.Ignore drops
// them (SIG_IGN), signal.Reset and a new Notify bring them back, signal.Stop detaches a channel,
// NotifyContext cancels a context. Every wait has a timeout that prints FAILED instead of hanging.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// wait prints what arrives on c within 5 s.
func wait(what string, c chan os.Signal) {
	select {
	case s := <-c:
		fmt.Printf("%-22s received %v (signal %d)\n", what+":", s, int(s.(syscall.Signal)))
	case <-time.After(5 * time.Second):
		fmt.Printf("%-22s FAILED: no signal within 5 s\n", what+":")
	}
}

// none checks that nothing arrives on c for a short while.
func none(what string, c chan os.Signal) {
	select {
	case s := <-c:
		fmt.Printf("%-22s FAILED: received %v\n", what+":", s)
	case <-time.After(200 * time.Millisecond):
		fmt.Printf("%-22s nothing received\n", what+":")
	}
}

func kill(sig syscall.Signal) {
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		fmt.Println("kill:", err)
	}
}

func main() {
	pid := os.Getpid()

	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	kill(syscall.SIGUSR1)
	wait("kill SIGUSR1", usr1)

	// One at a time, five times: each is received once (pending signals do not queue, so wait each time).
	n := 0
	for i := 0; i < 5; i++ {
		kill(syscall.SIGUSR1)
		select {
		case <-usr1:
			n++
		case <-time.After(5 * time.Second):
		}
	}
	fmt.Println("five SIGUSR1 in turn:  received", n)

	// tgkill to this very thread (the runtime's handler runs on it and forwards to the channel).
	runtime.LockOSThread()
	if err := syscall.Tgkill(pid, syscall.Gettid(), syscall.SIGUSR1); err != nil {
		fmt.Println("tgkill:", err)
	}
	runtime.UnlockOSThread()
	wait("tgkill SIGUSR1", usr1)

	// Two channels for one signal: both get it.
	other := make(chan os.Signal, 1)
	signal.Notify(other, syscall.SIGUSR1)
	kill(syscall.SIGUSR1)
	wait("two channels, first", usr1)
	wait("two channels, second", other)
	signal.Stop(other)
	kill(syscall.SIGUSR1)
	wait("after Stop, first", usr1)
	none("after Stop, stopped", other)

	// SIGUSR2: Notify, Ignore, Reset, Notify again.
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	kill(syscall.SIGUSR2)
	wait("kill SIGUSR2", usr2)
	signal.Ignore(syscall.SIGUSR2)
	fmt.Printf("%-22s %v\n", "Ignored(SIGUSR2):", signal.Ignored(syscall.SIGUSR2))
	kill(syscall.SIGUSR2) // SIG_IGN: dropped, the process lives on
	none("ignored SIGUSR2", usr2)
	signal.Reset(syscall.SIGUSR2)
	// Still true: only Notify clears the runtime's "ignored" flag (Go's behaviour, natively too).
	fmt.Printf("%-22s %v\n", "after Reset, Ignored:", signal.Ignored(syscall.SIGUSR2))
	signal.Notify(usr2, syscall.SIGUSR2)
	kill(syscall.SIGUSR2)
	wait("SIGUSR2 again", usr2)

	// SIGHUP and SIGWINCH (default action: ignore) through NotifyContext and Notify.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGHUP)
	kill(syscall.SIGHUP)
	select {
	case <-ctx.Done():
		fmt.Printf("%-22s %v\n", "NotifyContext SIGHUP:", ctx.Err())
	case <-time.After(5 * time.Second):
		fmt.Printf("%-22s FAILED: not cancelled within 5 s\n", "NotifyContext SIGHUP:")
	}
	stop()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	kill(syscall.SIGWINCH)
	wait("kill SIGWINCH", winch)

	// Signals from another goroutine while main blocks in a channel receive.
	go func() {
		time.Sleep(10 * time.Millisecond)
		kill(syscall.SIGUSR1)
	}()
	wait("from a goroutine", usr1)

	signal.Stop(usr1)
	signal.Stop(usr2)
	signal.Stop(winch)
	fmt.Println("done")
}
