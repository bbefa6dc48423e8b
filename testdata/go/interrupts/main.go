// interrupts: a state check for goemu's time slices, run under a tiny --time-slice so that the engine is
// interrupted tens of thousands of times. Goroutines on four threads do memory read-modify-writes, atomics,
// locked updates, channel hand-offs, copies, syscalls and signal handling, and check at every step that
// what they see adds up. An instruction run twice or cut in two, a lost register or a wrong resume address
// after a thread switch or a signal shows up as a FAIL line (or a crash). Usage: interrupts [rounds].
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const workers = 4

type slot struct {
	count, sum int64
	_          [6]int64 // one cache line each
}

var (
	slots   [workers]slot
	shared  int64
	mu      sync.Mutex
	locked  = map[int]int{}
	lockSum int
	failed  int32
)

func fail(format string, args ...interface{}) {
	atomic.StoreInt32(&failed, 1)
	fmt.Printf("FAIL "+format+"\n", args...)
}

// echo answers each value v with 3v+1 until its channel closes.
func echo(in <-chan int64, out chan<- int64) {
	for v := range in {
		out <- 3*v + 1
	}
	close(out)
}

func fnv(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func work(id int, rounds int64, pid int, signals bool, wg *sync.WaitGroup) {
	defer wg.Done()
	s := &slots[id]
	ping, pong := make(chan int64), make(chan int64)
	go echo(ping, pong)
	buf, copied := make([]byte, 4096), make([]byte, 4096)
	last := time.Now()
	for n := int64(1); n <= rounds; n++ {
		s.count++
		s.sum += n
		atomic.AddInt64(&shared, 1)
		if s.count != n || s.sum != n*(n+1)/2 {
			fail("worker %d round %d: count %d sum %d", id, n, s.count, s.sum)
			return
		}
		if n%64 == 0 {
			mu.Lock()
			locked[id]++
			lockSum++
			mine := locked[id]
			mu.Unlock()
			if int64(mine) != n/64 {
				fail("worker %d round %d: locked count %d", id, n, mine)
				return
			}
		}
		if n%256 == 0 {
			ping <- n
			if v := <-pong; v != 3*n+1 {
				fail("worker %d round %d: echo %d", id, n, v)
				return
			}
		}
		if n%512 == 0 {
			for i := range buf {
				buf[i] = byte(int64(i)*n + int64(id))
			}
			copy(copied, buf)
			if fnv(copied) != fnv(buf) {
				fail("worker %d round %d: copy differs", id, n)
				return
			}
			if syscall.Getpid() != pid {
				fail("worker %d round %d: getpid", id, n)
				return
			}
			now := time.Now()
			if now.Before(last) {
				fail("worker %d round %d: time went back", id, n)
				return
			}
			last = now
		}
		if signals && n%128 == 0 {
			if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
				fail("kill: %v", err)
				return
			}
		}
	}
	close(ping)
	for range pong {
	}
}

func main() {
	rounds := int64(200000)
	if len(os.Args) > 1 {
		r, err := strconv.ParseInt(os.Args[1], 10, 64)
		if err != nil || r < 1024 {
			fmt.Fprintln(os.Stderr, "usage: interrupts [rounds>=1024]")
			os.Exit(2)
		}
		rounds = r
	}
	runtime.GOMAXPROCS(workers)
	pid := syscall.Getpid()
	usr1 := make(chan os.Signal, 16)
	signal.Notify(usr1, syscall.SIGUSR1)
	var received int64
	done := make(chan struct{})
	go func() {
		for range usr1 {
			atomic.AddInt64(&received, 1)
		}
		close(done)
	}()

	var wg sync.WaitGroup
	for id := 0; id < workers; id++ {
		wg.Add(1)
		go work(id, rounds, pid, id == 0, &wg)
	}
	wg.Wait()
	signal.Stop(usr1)
	close(usr1)
	<-done

	for id := 0; id < workers; id++ {
		fmt.Printf("worker %d: count %d sum %d locked %d\n", id, slots[id].count, slots[id].sum, locked[id])
	}
	fmt.Printf("shared %d (want %d), lock sum %d\n", shared, workers*rounds, lockSum)
	if shared != workers*rounds || lockSum != int(workers*(rounds/64)) {
		fail("totals")
	}
	if atomic.LoadInt64(&received) == 0 {
		fail("no SIGUSR1 arrived")
	}
	if atomic.LoadInt32(&failed) != 0 {
		os.Exit(1)
	}
	fmt.Println("state checks: ok")
}
