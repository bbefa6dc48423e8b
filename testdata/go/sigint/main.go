// sigint: a signal sent from outside. The conformance harness starts this under
// "env --default-signal=SIG" (an inherited SIG_IGN would change what Go does) and runs kill -SIG PID
// once "ready" is on stdout; goemu's launcher execs java, so PID is the JVM that forwards the signal.
//
//	(none)   signal.Notify(os.Interrupt): prints "got interrupt", exits 0
//	default  no handler: the runtime's handler re-raises the signal with SIG_DFL and the process dies
//	         of it (SIGINT: exit status 130, SIGTERM: 143, as a shell or Java reports it)
//
// Either way the program gives up after 10 s (exit 1) so that a lost signal cannot hang the suite.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "default" {
		fmt.Println("ready")
		time.Sleep(10 * time.Second)
		fmt.Println("no signal within 10 s")
		os.Exit(1)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	fmt.Println("ready")
	select {
	case s := <-c:
		fmt.Println("got", s)
	case <-time.After(10 * time.Second):
		fmt.Println("no signal within 10 s")
		os.Exit(1)
	}
}
