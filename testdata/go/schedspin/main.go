// schedspin holds the Go scheduler still so that its state can be sampled from outside while GODEBUG=schedtrace
// prints it: run it with one P (GOMAXPROCS=1, or goemu --cpus 1) and GODEBUG=asyncpreemptoff=1. main starts four
// goroutines, which wait in its P's run queue (the last one in runnext), then keeps the P for about 4 seconds in a
// loop without calls, which nothing can preempt. Used by SchedViewsTest, not by the conformance suite.
package main

import (
	"fmt"
	"time"
)

var sink int

// spin runs n rounds of a loop without calls: it has no preemption point.
func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i ^ (s >> 3)
	}
	return s
}

func main() {
	// How many rounds take 200 ms here, natively or emulated.
	rounds, start := 0, time.Now()
	for time.Since(start) < 200*time.Millisecond {
		sink += spin(1000000)
		rounds += 1000000
	}
	done := make(chan bool)
	for i := 0; i < 4; i++ {
		go func() { done <- true }()
	}
	sink += spin(rounds * 20)
	for i := 0; i < 4; i++ {
		<-done
	}
	fmt.Println("spun and joined 4 goroutines")
}
