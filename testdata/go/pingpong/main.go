// pingpong: scheduling benchmark (the classic thread ring). A ring of goroutines, each blocked receiving
// on its own unbuffered channel, passes a token to the next one until it has made the given number of
// hops; every hop folds the receiver's index into a checksum, so the output says which path it took.
// Usage: pingpong [goroutines] [hops] (default 503 goroutines, 4000000 hops).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

type token struct {
	left int    // hops still to make
	sum  uint64 // FNV-1a over the indexes of the goroutines it visited
	last int    // the goroutine that made the last hop
}

func arg(i, def int) int {
	if len(os.Args) > i {
		v, err := strconv.Atoi(os.Args[i])
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "usage: pingpong [goroutines>=1] [hops>=1]")
			os.Exit(2)
		}
		return v
	}
	return def
}

func main() {
	n, hops := arg(1, 503), arg(2, 4000000)
	ring := make([]chan token, n)
	for i := range ring {
		ring[i] = make(chan token)
	}
	done := make(chan token)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(id int, in, out chan token) {
			defer wg.Done()
			for t := range in {
				t.sum = (t.sum ^ uint64(id)) * 1099511628211
				if t.left == 0 {
					t.last = id
					done <- t
					continue
				}
				t.left--
				out <- t
			}
		}(i, ring[i], ring[(i+1)%n])
	}
	ring[0] <- token{left: hops - 1, sum: 14695981039346656037}
	t := <-done
	// Closing the ring's channels ends every goroutine; the WaitGroup checks none is stuck.
	for _, c := range ring {
		close(c)
	}
	wg.Wait()
	fmt.Printf("pingpong: %d goroutines, %d hops, last at goroutine %d, checksum %016x\n", n, hops, t.last, t.sum)
}
