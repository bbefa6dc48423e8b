// selectcall: select(2) and pselect6(2) over pipes, as Linux answers them: ready sets rewritten, cleared on
// timeout, EBADF for a closed fd, EINVAL for bad arguments, a blocked select woken by a write from another thread.
package main

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

func set(fds ...int) *syscall.FdSet {
	s := &syscall.FdSet{}
	for _, fd := range fds {
		s.Bits[fd/64] |= 1 << (uint(fd) % 64)
	}
	return s
}

func has(s *syscall.FdSet, fd int) bool { return s.Bits[fd/64]&(1<<(uint(fd)%64)) != 0 }

func show(what string, n int, err error, sets map[string]*syscall.FdSet, fds map[string]int) {
	fmt.Printf("%s: n=%d err=%v", what, n, err)
	for _, name := range []string{"r", "w", "e"} {
		s := sets[name]
		if s == nil {
			continue
		}
		for _, f := range []string{"pr", "pw"} {
			if has(s, fds[f]) {
				fmt.Printf(" %s:%s", name, f)
			}
		}
	}
	fmt.Println()
}

// selectRetrying waits for read readiness; natively the runtime's preemption signal (SIGURG) may interrupt the wait
// (EINTR, the timeout then holds the time left), so the call is repeated with the read set it was given.
func selectRetrying(nfd int, r *syscall.FdSet, tv *syscall.Timeval) (int, error) {
	want := *r
	for {
		n, err := syscall.Select(nfd, r, nil, nil, tv)
		if err != syscall.EINTR {
			return n, err
		}
		*r = want
	}
}

func pselect(nfd int, r, w, e *syscall.FdSet, ts *syscall.Timespec) (int, error) {
	n, _, errno := syscall.Syscall6(syscall.SYS_PSELECT6, uintptr(nfd), uintptr(unsafe.Pointer(r)),
		uintptr(unsafe.Pointer(w)), uintptr(unsafe.Pointer(e)), uintptr(unsafe.Pointer(ts)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func main() {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		panic(err)
	}
	pr, pw := p[0], p[1]
	fds := map[string]int{"pr": pr, "pw": pw}
	nfd := pw + 1
	if pr > pw {
		nfd = pr + 1
	}

	r, w := set(pr), set(pw)
	n, err := syscall.Select(nfd, r, w, nil, &syscall.Timeval{})
	show("empty pipe, poll", n, err, map[string]*syscall.FdSet{"r": r, "w": w}, fds)

	syscall.Write(pw, []byte("x"))
	r, w, e := set(pr), set(pw), set(pr, pw)
	n, err = syscall.Select(nfd, r, w, e, &syscall.Timeval{})
	show("one byte, poll", n, err, map[string]*syscall.FdSet{"r": r, "w": w, "e": e}, fds)

	r = set(pr)
	n, err = syscall.Select(nfd, r, nil, nil, nil)
	show("one byte, no timeout", n, err, map[string]*syscall.FdSet{"r": r}, fds)
	syscall.Read(pr, make([]byte, 1))

	r = set(pr)
	start := time.Now()
	tv := syscall.Timeval{Usec: 50000}
	n, err = selectRetrying(nfd, r, &tv)
	show("empty pipe, 50 ms", n, err, map[string]*syscall.FdSet{"r": r}, fds)
	fmt.Println("waited at least 50 ms:", time.Since(start) >= 50*time.Millisecond, "time left:", tv)

	go func() {
		time.Sleep(20 * time.Millisecond)
		syscall.Write(pw, []byte("y"))
	}()
	r = set(pr)
	tv = syscall.Timeval{Sec: 10}
	n, err = selectRetrying(nfd, r, &tv)
	show("woken by a write", n, err, map[string]*syscall.FdSet{"r": r}, fds)
	fmt.Println("time left below 10 s and above 5 s:", tv.Sec < 10 && tv.Sec >= 5)
	syscall.Read(pr, make([]byte, 1))

	r = set(pr)
	n, err = pselect(nfd, r, nil, nil, &syscall.Timespec{})
	show("pselect6, poll", n, err, map[string]*syscall.FdSet{"r": r}, fds)
	syscall.Write(pw, []byte("z"))
	ts := syscall.Timespec{Sec: 3}
	n, err = pselect(nfd, set(pr), nil, nil, &ts)
	fmt.Printf("pselect6, ready at once: n=%d err=%v time left in (2 s, 3 s]: %v\n", n, err, ts.Sec == 2 || ts.Sec == 3 && ts.Nsec == 0)
	syscall.Read(pr, make([]byte, 1))
	n, err = pselect(nfd, set(pr), nil, nil, &syscall.Timespec{Nsec: 1e9})
	fmt.Printf("pselect6, bad timespec: n=%d err=%v\n", n, err)

	n, err = syscall.Select(-1, nil, nil, nil, &syscall.Timeval{})
	fmt.Printf("negative nfds: n=%d err=%v\n", n, err)
	n, err = syscall.Select(nfd, set(pr), nil, nil, &syscall.Timeval{Usec: -1})
	fmt.Printf("negative timeout: n=%d err=%v\n", n, err)
	n, err = syscall.Select(nfd, nil, nil, nil, &syscall.Timeval{Usec: 2000})
	fmt.Printf("no fds, 2 ms: n=%d err=%v\n", n, err)

	syscall.Close(pw)
	r = set(pr)
	n, err = syscall.Select(nfd, r, nil, nil, nil)
	show("writer closed", n, err, map[string]*syscall.FdSet{"r": r}, fds)
	n, err = syscall.Select(nfd, set(pw), nil, nil, &syscall.Timeval{})
	fmt.Printf("closed fd: n=%d err=%v\n", n, err)
}
