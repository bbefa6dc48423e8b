// channels: unbuffered and buffered channels, close, pipelines, select with default and time.After.
package main

import (
	"fmt"
	"time"
)

func main() {
	// Unbuffered ping-pong.
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	v := 0
	for i := 0; i < 1000; i++ {
		ping <- v
		v = <-pong
	}
	close(ping)
	_, ok := <-pong
	fmt.Printf("ping-pong: %d round trips, value %d, pong open after close: %v\n", 1000, v, ok)

	// Buffered channel: length and capacity, then drain after close.
	buf := make(chan int, 10)
	for i := 1; i <= 7; i++ {
		buf <- i * i
	}
	fmt.Printf("buffered: len %d cap %d\n", len(buf), cap(buf))
	close(buf)
	sum := 0
	for x := range buf {
		sum += x
	}
	z, ok := <-buf
	fmt.Printf("buffered: drained sum %d, receive after close: %d %v\n", sum, z, ok)

	// Producer/consumer through a small buffer.
	work := make(chan int, 4)
	done := make(chan int)
	go func() {
		total := 0
		for x := range work {
			total += x
		}
		done <- total
	}()
	for i := 0; i < 10000; i++ {
		work <- i
	}
	close(work)
	fmt.Printf("producer/consumer total: %d\n", <-done)

	// Three-stage pipeline.
	gen := func(n int) <-chan int {
		out := make(chan int)
		go func() {
			for i := 1; i <= n; i++ {
				out <- i
			}
			close(out)
		}()
		return out
	}
	square := func(in <-chan int) <-chan int {
		out := make(chan int, 2)
		go func() {
			for x := range in {
				out <- x * x
			}
			close(out)
		}()
		return out
	}
	total := 0
	for x := range square(square(gen(50))) {
		total += x
	}
	fmt.Printf("pipeline sum of fourth powers 1..50: %d\n", total)

	// select with default on an empty channel.
	empty := make(chan int)
	select {
	case x := <-empty:
		fmt.Println("unexpected value", x)
	default:
		fmt.Println("select default: no value ready")
	}

	// select with time.After: nothing else will ever be ready.
	start := time.Now()
	select {
	case x := <-empty:
		fmt.Println("unexpected value", x)
	case <-time.After(30 * time.Millisecond):
		fmt.Printf("select timeout fired, waited >= 30ms: %v\n", time.Since(start) >= 30*time.Millisecond)
	}

	// select with a ready channel against a long time.After.
	ready := make(chan string, 1)
	ready <- "ready value"
	select {
	case s := <-ready:
		fmt.Println("select got:", s)
	case <-time.After(time.Hour):
		fmt.Println("unexpected timeout")
	}

	// nil channels are never selected; a closed one always is.
	var nilch chan int
	closed := make(chan int)
	close(closed)
	for i := 0; i < 3; i++ {
		select {
		case <-nilch:
			fmt.Println("nil channel selected?!")
		case _, ok := <-closed:
			fmt.Printf("closed channel selected, ok=%v\n", ok)
		}
	}

	// Fan-in of several senders with a counting select loop.
	a, b := make(chan int), make(chan int)
	for _, c := range []chan int{a, b} {
		go func(c chan int) {
			for i := 0; i < 100; i++ {
				c <- 1
			}
			close(c)
		}(c)
	}
	na, nb := 0, 0
	for a != nil || b != nil {
		select {
		case _, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			na++
		case _, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			nb++
		}
	}
	fmt.Printf("fan-in: %d from a, %d from b\n", na, nb)
}
