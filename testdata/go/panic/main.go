// panic: dies the ways Go programs die, chosen by the first argument:
//
//	(none)     uncaught panic in main: "panic: ..." + goroutine trace, exit 2
//	goroutine  uncaught panic in another goroutine
//	nil        uncaught nil pointer dereference (SIGSEGV turned into a runtime error by the Go runtime)
//	deadlock   "fatal error: all goroutines are asleep - deadlock!"
package main

import (
	"fmt"
	"os"
)

type T struct {
	a, b int
}

//go:noinline
func load(p *T) int {
	return p.b
}

//go:noinline
func fail(what string) {
	panic("goemu test panic: " + what)
}

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	defer fmt.Println("deferred call in main ran")
	fmt.Println("mode:", mode)
	switch mode {
	case "":
		fail("in main")
	case "goroutine":
		done := make(chan bool)
		go func() {
			fmt.Println("goroutine about to panic")
			fail("in a goroutine")
			done <- true
		}()
		<-done
	case "nil":
		var p *T
		fmt.Println(load(p))
	case "deadlock":
		ch := make(chan int)
		ch <- 1
	default:
		fmt.Println("unknown mode")
		os.Exit(1)
	}
	fmt.Println("not reached")
}
