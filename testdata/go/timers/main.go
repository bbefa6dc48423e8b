// timers: time.Sleep, Timer, Ticker, AfterFunc and context deadlines; prints counts and orderings, never durations.
package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

func main() {
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("sleep 20ms: elapsed >= 20ms:", time.Since(start) >= 20*time.Millisecond)

	// A timer that fires; Stop afterwards reports it had already fired.
	t := time.NewTimer(15 * time.Millisecond)
	<-t.C
	fmt.Println("timer fired; Stop after fire returns:", t.Stop())

	// A long timer stopped before firing, then reset to a short one.
	long := time.NewTimer(time.Hour)
	fmt.Println("long timer Stop before fire returns:", long.Stop())
	long.Reset(10 * time.Millisecond)
	<-long.C
	fmt.Println("reset timer fired")

	// A ticker: count exactly 5 ticks, then stop.
	tk := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range tk.C {
		ticks++
		if ticks == 5 {
			break
		}
	}
	tk.Stop()
	fmt.Println("ticker ticks received:", ticks)

	// AfterFunc runs in its own goroutine.
	fired := make(chan string)
	time.AfterFunc(10*time.Millisecond, func() { fired <- "afterfunc ran" })
	fmt.Println(<-fired)
	stopped := time.AfterFunc(time.Hour, func() { fmt.Println("must not run") })
	fmt.Println("AfterFunc(1h).Stop returns:", stopped.Stop())

	// Several AfterFuncs: all fire, none before its deadline (the order is not checked: on a loaded
	// machine timers that expire together run in goroutines of their own).
	early := make(chan bool, 5)
	base := time.Now()
	for _, i := range []int{4, 2, 5, 1, 3} {
		d := time.Duration(i) * 10 * time.Millisecond
		time.AfterFunc(d, func() { early <- time.Since(base) < d })
	}
	nEarly := 0
	for i := 0; i < 5; i++ {
		if <-early {
			nEarly++
		}
	}
	fmt.Println("afterfuncs fired: 5, early:", nEarly)

	// Many concurrent sleepers all wake up.
	var wg sync.WaitGroup
	var mu sync.Mutex
	woke := 0
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i%10+1) * time.Millisecond)
			mu.Lock()
			woke++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	fmt.Println("sleepers woken:", woke)

	// Context deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	fmt.Println("context:", ctx.Err())

	// Monotonic clock never goes backwards across many reads.
	prev := time.Now()
	backwards := 0
	for i := 0; i < 10000; i++ {
		now := time.Now()
		if now.Before(prev) {
			backwards++
		}
		prev = now
	}
	fmt.Println("monotonic clock went backwards:", backwards, "times")
	fmt.Println("wall clock after 2020:", time.Now().Year() >= 2020)
}
