// args-env-exit: prints its arguments and GOEMU_TEST_VAR, writes a line to stderr, then os.Exit(3)
// (deferred functions must not run).
package main

import (
	"fmt"
	"os"
)

func main() {
	defer fmt.Println("deferred: must not be printed")
	fmt.Printf("argc: %d\n", len(os.Args)-1)
	for i, a := range os.Args[1:] {
		fmt.Printf("arg[%d] = %q\n", i+1, a)
	}
	v, ok := os.LookupEnv("GOEMU_TEST_VAR")
	fmt.Printf("GOEMU_TEST_VAR = %q (set: %v)\n", v, ok)
	_, ok = os.LookupEnv("GOEMU_TEST_UNSET_VAR")
	fmt.Printf("GOEMU_TEST_UNSET_VAR set: %v\n", ok)
	fmt.Fprintln(os.Stderr, "args-env-exit: exiting with status 3")
	os.Exit(3)
}
