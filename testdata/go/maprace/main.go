// maprace: a check-then-act on a map where half the goroutines take the wrong lock (the bug: two locks guard
// one map), so two writers can be inside the map at once and the runtime stops the program with "fatal error:
// concurrent map writes". With the argument "fixed" every goroutine takes the same lock.
package main

import (
	"fmt"
	"os"
	"sync"
)

const workers, keys = 4, 2000

func main() {
	fixed := len(os.Args) > 1 && os.Args[1] == "fixed"
	var a, b sync.Mutex
	seen := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lock := &a
		if w%2 == 1 && !fixed {
			lock = &b
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; k < keys; k++ {
				lock.Lock()
				if _, ok := seen[k]; !ok {
					seen[k] = w
				}
				lock.Unlock()
			}
		}(w)
	}
	wg.Wait()
	fmt.Println("keys:", len(seen))
}
