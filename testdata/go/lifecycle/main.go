// lifecycle starts a known set of goroutines for the goroutine tracer's test: five workers (main.worker) take jobs
// from an unbuffered channel, sleep a millisecond on each and send the results back; main waits for all of them.
// Used by SchedViewsTest, not by the conformance suite.
package main

import (
	"fmt"
	"sync"
	"time"
)

const workers = 5

var (
	jobs    = make(chan int)
	results = make(chan int, 100)
	wg      sync.WaitGroup
)

func worker() {
	defer wg.Done()
	for j := range jobs {
		time.Sleep(time.Millisecond)
		results <- j * j
	}
}

func main() {
	wg.Add(workers)
	for i := 0; i < workers; i++ {
		go worker()
	}
	for i := 1; i <= 20; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	fmt.Println("workers", workers, "sum", sum)
}
