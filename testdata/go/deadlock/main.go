// deadlock: two goroutines take two locks in opposite orders (the bug), each once, with some work in between;
// only when both hold their first lock before either takes its second do they deadlock, and then the runtime
// stops the program with "fatal error: all goroutines are asleep - deadlock!". With the argument "fixed" both
// take the locks in the same order.
package main

import (
	"fmt"
	"os"
	"sync"
)

// work keeps a goroutine between its two locks for a while.
//
//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 13
	}
	return s
}

func main() {
	fixed := len(os.Args) > 1 && os.Args[1] == "fixed"
	var a, b sync.Mutex
	var wg sync.WaitGroup
	sums := make([]int, 2)
	take := func(i int, first, second *sync.Mutex) {
		defer wg.Done()
		first.Lock()
		s := work(2000)
		second.Lock()
		sums[i] = s
		second.Unlock()
		first.Unlock()
	}
	wg.Add(2)
	go take(0, &a, &b)
	if fixed {
		go take(1, &a, &b)
	} else {
		go take(1, &b, &a)
	}
	wg.Wait()
	fmt.Println("sums:", sums[0], sums[1])
}
