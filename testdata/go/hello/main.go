// hello: the smallest useful program; start-up, one write, exit 0.
package main

import "fmt"

func main() {
	fmt.Println("Hello, world!")
}
