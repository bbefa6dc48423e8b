// faults: runtime errors that are recovered: nil dereference (SIGSEGV), integer division by zero,
// nil map write, bounds, type assertion, closed channel; plus deep recursion (stack growth).
// Prints each recovered error; exits 0.
package main

import (
	"errors"
	"fmt"
	"runtime"
)

type big struct {
	pad [1 << 16]byte
	x   int
}

type small struct{ x, y int }

//go:noinline
func derefSmall(p *small) int { return p.y }

//go:noinline
func derefBig(p *big) int { return p.x }

//go:noinline
func divide(a, b int) int { return a / b }

//go:noinline
func index(s []int, i int) int { return s[i] }

func try(name string, f func()) {
	defer func() {
		r := recover()
		if err, ok := r.(runtime.Error); ok {
			fmt.Printf("%-12s recovered runtime.Error: %v\n", name, err)
			return
		}
		fmt.Printf("%-12s recovered: %v\n", name, r)
	}()
	f()
}

//go:noinline
func depth(n int) int {
	var frame [32]int
	frame[n%32] = n
	if n == 0 {
		return 0
	}
	return depth(n-1) + frame[n%32] - n + 1
}

func main() {
	try("nil small", func() { fmt.Println(derefSmall(nil)) })
	try("nil big", func() { fmt.Println(derefBig(nil)) })
	try("div zero", func() { fmt.Println(divide(7, 0)) })
	try("nil map", func() {
		var m map[string]int
		m["x"] = 1
	})
	try("index", func() { fmt.Println(index([]int{1, 2, 3}, 5)) })
	try("slice", func() {
		s := []int{1, 2, 3}
		n := 5
		fmt.Println(s[1:n])
	})
	try("assert", func() {
		var i interface{} = "string"
		fmt.Println(i.(int))
	})
	try("closed chan", func() {
		c := make(chan int)
		close(c)
		close(c)
	})
	try("custom", func() { panic(errors.New("custom error value")) })
	// Faults keep working after recovery, also in another goroutine.
	done := make(chan bool)
	go func() {
		try("goroutine", func() { fmt.Println(derefSmall(nil)) })
		done <- true
	}()
	<-done
	fmt.Println("recursion depth 100000 result:", depth(100000))
	fmt.Println("all faults recovered")
}
