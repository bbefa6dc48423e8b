// goroutines: many goroutines with sync.WaitGroup and sync.Once; results are printed in a fixed order.
package main

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

func collatzSteps(n uint64) int {
	steps := 0
	for n != 1 {
		if n%2 == 0 {
			n /= 2
		} else {
			n = 3*n + 1
		}
		steps++
	}
	return steps
}

func main() {
	// 1. Fan-out with a WaitGroup, results indexed by worker.
	const workers = 32
	results := make([]int, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			best := 0
			for n := uint64(id*1000 + 1); n <= uint64(id*1000+1000); n++ {
				if s := collatzSteps(n); s > best {
					best = s
				}
			}
			results[id] = best
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		fmt.Printf("worker %2d: max collatz steps %d\n", i, r)
	}

	// 2. Many short-lived goroutines that park on a channel, then are released together.
	const parked = 2000
	var started, finished int64
	release := make(chan struct{})
	var wg2 sync.WaitGroup
	for i := 0; i < parked; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			atomic.AddInt64(&started, 1)
			<-release
			atomic.AddInt64(&finished, 1)
		}()
	}
	for atomic.LoadInt64(&started) < parked {
		runtime.Gosched() // busy-wait with yields through the scheduler
	}
	close(release)
	wg2.Wait()
	fmt.Printf("parked goroutines: started %d finished %d\n", started, finished)

	// 3. sync.Once from many goroutines.
	var once sync.Once
	var onceRuns int64
	var wg3 sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg3.Add(1)
		go func() {
			defer wg3.Done()
			once.Do(func() { atomic.AddInt64(&onceRuns, 1) })
		}()
	}
	wg3.Wait()
	fmt.Printf("once ran %d time(s)\n", onceRuns)

	// 4. Recursive spawning: a tree of goroutines, each leaf reports its path; sorted output.
	var mu sync.Mutex
	var leaves []string
	var wg4 sync.WaitGroup
	var spawn func(path string, depth int)
	spawn = func(path string, depth int) {
		defer wg4.Done()
		if depth == 0 {
			mu.Lock()
			leaves = append(leaves, path)
			mu.Unlock()
			return
		}
		for _, c := range []string{"L", "R"} {
			wg4.Add(1)
			go spawn(path+c, depth-1)
		}
	}
	wg4.Add(1)
	go spawn("", 6)
	wg4.Wait()
	sort.Strings(leaves)
	fmt.Printf("tree leaves: %d first %s last %s\n", len(leaves), leaves[0], leaves[len(leaves)-1])
}
