// stdin: reads standard input to EOF; prints line, word and byte counts and the lines reversed.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	var lines []string
	words, bytes := 0, 0
	for sc.Scan() {
		l := sc.Text()
		lines = append(lines, l)
		words += len(strings.Fields(l))
		bytes += len(l) + 1
	}
	if err := sc.Err(); err != nil {
		fmt.Println("read error:", err)
		os.Exit(1)
	}
	fmt.Printf("lines %d words %d bytes %d\n", len(lines), words, bytes)
	for i := len(lines) - 1; i >= 0; i-- {
		fmt.Println(strings.ToUpper(lines[i]))
	}
}
