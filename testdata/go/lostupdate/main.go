// lostupdate: four goroutines increment a shared counter without a lock (the bug: read, compute, write back,
// and another goroutine's increment in between is lost). With the argument "fixed" a mutex guards it.
// Exits 1 when updates were lost.
package main

import (
	"fmt"
	"os"
	"sync"
)

const workers, perWorker = 4, 3000

var counter int

// next is a call, as a real computation would be: the read and the write back are not one instruction.
//
//go:noinline
func next(v int) int { return v + 1 }

func main() {
	fixed := len(os.Args) > 1 && os.Args[1] == "fixed"
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				if fixed {
					mu.Lock()
				}
				v := counter
				counter = next(v)
				if fixed {
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println("counter:", counter)
	if counter != workers*perWorker {
		fmt.Println("lost updates:", workers*perWorker-counter)
		os.Exit(1)
	}
}
