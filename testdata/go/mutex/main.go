// mutex: contended sync.Mutex, sync.RWMutex and atomics with GOMAXPROCS(4); prints the final counters.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

func main() {
	runtime.GOMAXPROCS(4)
	fmt.Println("GOMAXPROCS:", runtime.GOMAXPROCS(0))

	const goroutines, iterations = 8, 25000
	var mu sync.Mutex
	counter := 0
	var atomicCounter int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iterations; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
				atomic.AddInt64(&atomicCounter, 1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("mutex counter: %d (want %d)\n", counter, goroutines*iterations)
	fmt.Printf("atomic counter: %d (want %d)\n", atomicCounter, goroutines*iterations)

	// Compare-and-swap loop.
	var cas int64
	var wg2 sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := 0; i < 5000; i++ {
				for {
					old := atomic.LoadInt64(&cas)
					if atomic.CompareAndSwapInt64(&cas, old, old+2) {
						break
					}
				}
			}
		}()
	}
	wg2.Wait()
	fmt.Printf("cas counter: %d (want %d)\n", cas, goroutines*5000*2)

	// RWMutex: writers update a map, readers check an invariant (sum of values == 0).
	var rw sync.RWMutex
	m := map[int]int{}
	var violations int64
	var wg3 sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg3.Add(1)
		go func(w int) {
			defer wg3.Done()
			for i := 0; i < 2000; i++ {
				rw.Lock()
				m[i%16] += w + 1
				m[16+i%16] -= w + 1
				rw.Unlock()
			}
		}(w)
	}
	for r := 0; r < 4; r++ {
		wg3.Add(1)
		go func() {
			defer wg3.Done()
			for i := 0; i < 2000; i++ {
				rw.RLock()
				s := 0
				for _, v := range m {
					s += v
				}
				rw.RUnlock()
				if s != 0 {
					atomic.AddInt64(&violations, 1)
				}
			}
		}()
	}
	wg3.Wait()
	pos := 0
	for k, v := range m {
		if k < 16 {
			pos += v
		}
	}
	fmt.Printf("rwmutex: invariant violations %d, positive half %d (want %d)\n", violations, pos, 2000*1+2000*2)

	// sync.Cond: a bounded queue with one producer and three consumers.
	var cmu sync.Mutex
	cond := sync.NewCond(&cmu)
	queue := []int{}
	closed := false
	var consumed int64
	var sum int64
	var wg4 sync.WaitGroup
	for c := 0; c < 3; c++ {
		wg4.Add(1)
		go func() {
			defer wg4.Done()
			for {
				cmu.Lock()
				for len(queue) == 0 && !closed {
					cond.Wait()
				}
				if len(queue) == 0 && closed {
					cmu.Unlock()
					return
				}
				x := queue[0]
				queue = queue[1:]
				cond.Broadcast()
				cmu.Unlock()
				atomic.AddInt64(&consumed, 1)
				atomic.AddInt64(&sum, int64(x))
			}
		}()
	}
	for i := 1; i <= 3000; i++ {
		cmu.Lock()
		for len(queue) >= 8 {
			cond.Wait()
		}
		queue = append(queue, i)
		cond.Broadcast()
		cmu.Unlock()
	}
	cmu.Lock()
	closed = true
	cond.Broadcast()
	cmu.Unlock()
	wg4.Wait()
	fmt.Printf("cond queue: consumed %d sum %d\n", consumed, sum)
}
