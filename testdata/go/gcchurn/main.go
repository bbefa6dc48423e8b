// gcchurn: allocates a few hundred MB in total, in small objects (lists, maps, strings) and large
// slices, keeps part of it live across explicit runtime.GC calls, and prints checksums.
// Usage: gcchurn [scale]; scale 1 (default) allocates about 300 MB.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

type node struct {
	next  *node
	value uint64
	pad   [2]uint64
}

func fnv(h uint64, x uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= x & 0xff
		h *= 1099511628211
		x >>= 8
	}
	return h
}

func main() {
	scale := 1
	if len(os.Args) > 1 {
		s, err := strconv.Atoi(os.Args[1])
		if err != nil || s < 1 {
			fmt.Fprintln(os.Stderr, "usage: gcchurn [scale>=1]")
			os.Exit(2)
		}
		scale = s
	}
	var allocated uint64 // bytes requested by this program, by our own count

	// Small objects: linked lists of 32-byte nodes, most of them dropped at once.
	var keep []*node
	listSum := uint64(14695981039346656037)
	for round := 0; round < 8*scale; round++ {
		var head *node
		for i := 0; i < 250000; i++ {
			head = &node{next: head, value: uint64(round*250000 + i)}
		}
		allocated += 250000 * 32
		for n := head; n != nil; n = n.next {
			listSum = fnv(listSum, n.value)
		}
		if round%4 == 0 {
			keep = append(keep, head)
		}
	}
	runtime.GC()
	liveNodes := 0
	for _, h := range keep {
		for n := h; n != nil; n = n.next {
			liveNodes++
		}
	}
	fmt.Printf("lists: checksum %016x, live nodes after GC %d\n", listSum, liveNodes)

	// Large objects: 1 MiB slices filled with a pattern; every 16th stays live.
	var big [][]byte
	bigSum := uint64(14695981039346656037)
	for i := 0; i < 160*scale; i++ {
		b := make([]byte, 1<<20)
		allocated += 1 << 20
		x := uint32(i*2654435761 + 1)
		for j := 0; j < len(b); j += 64 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[j] = byte(x)
		}
		for j := 0; j < len(b); j += 4096 {
			bigSum = fnv(bigSum, uint64(b[j]))
		}
		if i%16 == 0 {
			big = append(big, b)
		}
	}
	runtime.GC()
	liveSum := uint64(0)
	for _, b := range big {
		for j := 0; j < len(b); j += 64 {
			liveSum += uint64(b[j])
		}
	}
	fmt.Printf("large: checksum %016x, live slices %d, live byte sum %d\n", bigSum, len(big), liveSum)

	// Maps and strings: build and discard maps of formatted strings.
	mapSum := uint64(14695981039346656037)
	for round := 0; round < 4*scale; round++ {
		m := make(map[string]int)
		for i := 0; i < 50000; i++ {
			k := "key-" + strconv.Itoa(round) + "-" + strconv.Itoa(i*7919)
			m[k] = i
			allocated += uint64(len(k)) + 48
		}
		for i := 0; i < 50000; i += 97 {
			k := "key-" + strconv.Itoa(round) + "-" + strconv.Itoa(i*7919)
			mapSum = fnv(mapSum, uint64(m[k]))
		}
		mapSum = fnv(mapSum, uint64(len(m)))
	}
	fmt.Printf("maps: checksum %016x\n", mapSum)

	// Growing slices (repeated reallocation and copying).
	var grow []uint64
	for i := 0; i < 2000000*scale; i++ {
		grow = append(grow, uint64(i)*3)
	}
	allocated += uint64(len(grow)) * 8 * 2
	growSum := uint64(0)
	for _, v := range grow {
		growSum += v
	}
	fmt.Printf("append: len %d sum %d\n", len(grow), growSum)
	grow = nil

	keep = nil
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Printf("big slices still reachable: %d\n", len(big))
	fmt.Printf("allocated by our count: about %d MB\n", allocated>>20)
}
