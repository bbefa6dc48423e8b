// sha256: CPU-bound benchmark. Hashes a MB-sized buffer repeatedly, feeding each digest back into the
// buffer, and prints the final digest. Usage: sha256 [MiB] [rounds] (default 4 MiB x 200 rounds).
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
)

func arg(i, def int) int {
	if len(os.Args) > i {
		v, err := strconv.Atoi(os.Args[i])
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "usage: sha256 [MiB] [rounds]")
			os.Exit(2)
		}
		return v
	}
	return def
}

func main() {
	mib, rounds := arg(1, 4), arg(2, 200)
	buf := make([]byte, mib<<20)
	x := uint64(88172645463325252)
	for i := range buf {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf[i] = byte(x)
	}
	var sum [32]byte
	for r := 0; r < rounds; r++ {
		sum = sha256.Sum256(buf)
		copy(buf[(r*32)%len(buf):], sum[:])
	}
	fmt.Printf("sha256 of %d MiB x %d rounds: %x\n", mib, rounds, sum)
}
