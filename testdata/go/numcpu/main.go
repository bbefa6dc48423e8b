// numcpu: what the runtime thinks the machine has (sched_getaffinity, GOMAXPROCS env).
package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Println("NumCPU:", runtime.NumCPU())
	fmt.Println("GOMAXPROCS:", runtime.GOMAXPROCS(0))
	fmt.Println("GOOS/GOARCH:", runtime.GOOS+"/"+runtime.GOARCH)
}
