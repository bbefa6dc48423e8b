// preempt: with GOMAXPROCS(1) a goroutine spins in a loop without calls; main only gets the CPU back
// through asynchronous preemption (sysmon sends SIGURG to the spinning thread). Hangs if signals are
// not delivered.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var counter uint64

//go:noinline
func spin() {
	for {
		counter++
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	go spin()
	runtime.Gosched() // let the spinner run
	time.Sleep(20 * time.Millisecond)
	fmt.Println("main ran again while a goroutine spins: preemption works")
	start := time.Now()
	for i := 0; i < 3; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("three more sleeps done:", time.Since(start) >= 15*time.Millisecond)
}
