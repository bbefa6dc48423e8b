// stackoverflow: unbounded recursion dies with "runtime: goroutine stack exceeds N-byte limit" and
// "fatal error: stack overflow", exit 2. debug.SetMaxStack(1 MiB) keeps it cheap: with the default
// 1 GB limit the runtime would copy the stack ~20 times up to 1 GB before giving up.
package main

import (
	"fmt"
	"runtime/debug"
)

//go:noinline
func recurse(n int) int {
	var frame [16]int
	frame[n%16] = n
	return recurse(n+1) + frame[n%16]
}

func main() {
	debug.SetMaxStack(1 << 20)
	fmt.Println("recursing")
	fmt.Println(recurse(0))
}
