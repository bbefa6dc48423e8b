// ordering: a worker publishes "done" before it has stored its result (the bug), and the reader, which waits
// for "done", can read the result before it is there. With the argument "fixed" the result is stored first.
// Exits 1 when the reader saw no result.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
)

var (
	done   int32
	result []int
)

// compute takes a while: long enough that the reader may run in between.
//
//go:noinline
func compute(n int) []int {
	out := make([]int, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, i*i%7)
	}
	return out
}

func main() {
	fixed := len(os.Args) > 1 && os.Args[1] == "fixed"
	go func() {
		if fixed {
			result = compute(3000)
			atomic.StoreInt32(&done, 1)
		} else {
			atomic.StoreInt32(&done, 1)
			result = compute(3000)
		}
	}()
	for atomic.LoadInt32(&done) == 0 {
		runtime.Gosched()
	}
	if len(result) != 3000 {
		fmt.Println("read the result before it was published: length", len(result))
		os.Exit(1)
	}
	fmt.Println("result:", len(result))
}
