// traps: CPU exceptions raised by the program's own instructions. A divide error in assembly is recovered as
// Go's divide panic (SIGFPE); int3 (SIGTRAP) and ud2 (SIGILL) are fatal to a Go program, which prints the
// signal and exits 2. The argument picks the trap.
package main

import (
	"fmt"
	"os"
)

func divide(a, b int64) int64 // IDIVQ: no Go-inserted zero check
func breakpoint()              // INT $3
func illegal()                 // UD2

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: traps divide|int3|ud2")
		os.Exit(1)
	}
	switch os.Args[1] {
	case "divide":
		fmt.Println("7/2 =", divide(7, 2))
		func() {
			defer func() { fmt.Println("recovered:", recover()) }()
			fmt.Println("7/0 =", divide(7, 0))
		}()
		fmt.Println("after the divide error")
	case "int3":
		fmt.Println("before int3")
		breakpoint()
		fmt.Println("after int3: not reached")
	case "ud2":
		fmt.Println("before ud2")
		illegal()
		fmt.Println("after ud2: not reached")
	}
}
