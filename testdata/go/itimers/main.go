// itimers: setitimer/getitimer, alarm, POSIX timers (timer_create family on CLOCK_MONOTONIC and, per thread, on
// CLOCK_THREAD_CPUTIME_ID), their errors, and a CPU profile; prints outcomes, never durations or sample counts.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
	"unsafe"
)

type itimerval struct{ intervalSec, intervalUsec, valueSec, valueUsec int64 }
type itimerspec struct{ intervalSec, intervalNsec, valueSec, valueNsec int64 }
type sigevent struct {
	value         int64
	signo, notify int32
	tid           int32
	_             [44]byte
}

const (
	clockMonotonic = 1
	clockThreadCPU = 3
	clockMonoRaw   = 4
	sigevSignal    = 0
	sigevNone      = 1
	sigevThreadID  = 4
)

func errno(e syscall.Errno) string {
	if e == 0 {
		return "ok"
	}
	return e.Error()
}

func setitimer(which int, v itimerval) (itimerval, syscall.Errno) {
	var old itimerval
	_, _, e := syscall.Syscall(syscall.SYS_SETITIMER, uintptr(which), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&old)))
	return old, e
}

func getitimer(which int) (itimerval, syscall.Errno) {
	var cur itimerval
	_, _, e := syscall.Syscall(syscall.SYS_GETITIMER, uintptr(which), uintptr(unsafe.Pointer(&cur)), 0)
	return cur, e
}

func alarm(sec uint) uintptr {
	r, _, _ := syscall.Syscall(syscall.SYS_ALARM, uintptr(sec), 0, 0)
	return r
}

func timerCreate(clock int, ev *sigevent) (int32, syscall.Errno) {
	var id int32 = -1
	_, _, e := syscall.Syscall(syscall.SYS_TIMER_CREATE, uintptr(clock), uintptr(unsafe.Pointer(ev)), uintptr(unsafe.Pointer(&id)))
	return id, e
}

func timerSettime(id int32, v itimerspec) syscall.Errno {
	_, _, e := syscall.Syscall6(syscall.SYS_TIMER_SETTIME, uintptr(id), 0, uintptr(unsafe.Pointer(&v)), 0, 0, 0)
	return e
}

func timerGettime(id int32) (itimerspec, syscall.Errno) {
	var cur itimerspec
	_, _, e := syscall.Syscall(syscall.SYS_TIMER_GETTIME, uintptr(id), uintptr(unsafe.Pointer(&cur)), 0)
	return cur, e
}

func timerDelete(id int32) syscall.Errno {
	_, _, e := syscall.Syscall(syscall.SYS_TIMER_DELETE, uintptr(id), 0, 0)
	return e
}

func wait(c chan os.Signal, what string) {
	select {
	case s := <-c:
		fmt.Println(what+": got", s)
	case <-time.After(5 * time.Second):
		fmt.Println(what + ": no signal")
	}
}

func main() {
	alrm := make(chan os.Signal, 8)
	signal.Notify(alrm, syscall.SIGALRM)
	usr1 := make(chan os.Signal, 8)
	signal.Notify(usr1, syscall.SIGUSR1)
	usr2 := make(chan os.Signal, 8)
	signal.Notify(usr2, syscall.SIGUSR2)

	// ITIMER_REAL once: SIGALRM, then disarmed.
	_, e := setitimer(0, itimerval{valueUsec: 20000})
	fmt.Println("setitimer real 20ms:", errno(e))
	wait(alrm, "itimer real")
	cur, _ := getitimer(0)
	fmt.Println("after firing, disarmed:", cur == itimerval{})

	// ITIMER_REAL every 10 ms: three signals, then disarm; the old value reports the interval.
	setitimer(0, itimerval{intervalUsec: 10000, valueUsec: 10000})
	for i := 0; i < 3; i++ {
		wait(alrm, fmt.Sprint("interval tick ", i))
	}
	old, _ := setitimer(0, itimerval{})
	fmt.Println("old interval 10ms:", old.intervalSec == 0 && old.intervalUsec == 10000)
	time.Sleep(30 * time.Millisecond)
	select {
	case <-alrm:
		// a tick may have been pending when it was disarmed
	default:
	}

	// Errors.
	_, e = setitimer(3, itimerval{})
	fmt.Println("setitimer bad which:", errno(e))
	_, e = setitimer(0, itimerval{valueUsec: 1000000})
	fmt.Println("setitimer usec 1e6:", errno(e))
	_, e = getitimer(-1)
	fmt.Println("getitimer bad which:", errno(e))

	// alarm: the time left, rounded to seconds.
	fmt.Println("alarm(5) first:", alarm(5))
	fmt.Println("alarm(0) left:", alarm(0))

	// A POSIX timer on CLOCK_MONOTONIC with SIGUSR1.
	id, e := timerCreate(clockMonotonic, &sigevent{value: 42, signo: int32(syscall.SIGUSR1), notify: sigevSignal})
	fmt.Println("timer_create monotonic:", errno(e), "id >= 0:", id >= 0)
	fmt.Println("timer_settime 15ms:", errno(timerSettime(id, itimerspec{valueNsec: 15e6})))
	ts, _ := timerGettime(id)
	fmt.Println("armed, remaining > 0:", ts.valueSec > 0 || ts.valueNsec > 0)
	wait(usr1, "posix timer")
	ts, _ = timerGettime(id)
	fmt.Println("after firing, disarmed:", ts == itimerspec{})
	fmt.Println("timer_delete:", errno(timerDelete(id)))
	fmt.Println("timer_delete again:", errno(timerDelete(id)))
	_, e = timerGettime(id)
	fmt.Println("timer_gettime deleted:", errno(e))

	// A SIGEV_NONE timer is only read.
	id, _ = timerCreate(clockMonotonic, &sigevent{notify: sigevNone})
	timerSettime(id, itimerspec{valueSec: 100})
	ts, _ = timerGettime(id)
	fmt.Println("SIGEV_NONE remaining in (99s,100s]:", ts.valueSec == 99 || (ts.valueSec == 100 && ts.valueNsec == 0))
	timerDelete(id)

	// Errors.
	_, e = timerCreate(10, nil)
	fmt.Println("timer_create bad clock:", errno(e))
	_, e = timerCreate(clockMonoRaw, nil)
	fmt.Println("timer_create MONOTONIC_RAW:", errno(e))
	_, e = timerCreate(clockMonotonic, &sigevent{notify: 7, signo: 10})
	fmt.Println("timer_create bad notify:", errno(e))
	_, e = timerCreate(clockMonotonic, &sigevent{notify: sigevSignal, signo: 65})
	fmt.Println("timer_create bad signo:", errno(e))
	_, e = timerCreate(clockMonotonic, &sigevent{notify: sigevThreadID, signo: 10, tid: 1 << 30})
	fmt.Println("timer_create bad tid:", errno(e))
	_, _, e = syscall.Syscall(syscall.SYS_TIMER_CREATE, clockMonotonic, 0, 8)
	fmt.Println("timer_create bad id pointer:", errno(e))
	id, _ = timerCreate(clockMonotonic, nil)
	fmt.Println("timer_settime nsec 1e9:", errno(timerSettime(id, itimerspec{valueNsec: 1e9})))
	_, _, e = syscall.Syscall6(syscall.SYS_TIMER_SETTIME, uintptr(id), 0, 0, 0, 0, 0)
	fmt.Println("timer_settime NULL:", errno(e))
	timerDelete(id)
	fmt.Println("timer_settime bad id:", errno(timerSettime(1<<30, itimerspec{valueSec: 1})))

	// timerfd on CLOCK_MONOTONIC: a blocking read returns the expirations (deterministic runs answer ENOSYS).
	tfd, _, e := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_CLOEXEC, 0)
	if e != 0 {
		fmt.Println("timerfd_create:", errno(e))
	} else {
		spec := itimerspec{valueNsec: 10e6}
		_, _, e = syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, tfd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
		fmt.Println("timerfd_settime:", errno(e))
		var n [8]byte
		r, err := syscall.Read(int(tfd), n[:])
		fmt.Println("timerfd read:", r, err, n[0] >= 1)
		_, _, e = syscall.Syscall(syscall.SYS_TIMERFD_GETTIME, tfd, uintptr(unsafe.Pointer(&spec)), 0)
		fmt.Println("timerfd_gettime disarmed:", errno(e), spec == itimerspec{})
		syscall.Close(int(tfd))
	}

	// A per-thread CPU-time timer that signals its own thread: fires after 20 ms of this thread's work.
	runtime.LockOSThread()
	id, e = timerCreate(clockThreadCPU, &sigevent{signo: int32(syscall.SIGUSR2), notify: sigevThreadID, tid: int32(syscall.Gettid())})
	fmt.Println("timer_create thread CPU:", errno(e))
	timerSettime(id, itimerspec{valueNsec: 20e6})
	fired, x := false, 0
	for deadline := time.Now().Add(5 * time.Second); !fired && time.Now().Before(deadline); {
		for i := 0; i < 100000; i++ {
			x = x*31 + i
		}
		select {
		case <-usr2:
			fired = true
		default:
		}
	}
	fmt.Println("thread CPU timer fired:", fired, x != 1)
	timerDelete(id)
	runtime.UnlockOSThread()

	// A CPU profile of about 300 ms of work has samples.
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		fmt.Println("StartCPUProfile:", err)
		return
	}
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		for i := 0; i < 100000; i++ {
			x = x*31 + i
		}
	}
	pprof.StopCPUProfile()
	fmt.Println("profile has samples:", samples(buf.Bytes()) > 0)
}

// samples counts the Profile message's sample fields (number 2) in a gzipped profile.proto.
func samples(gz []byte) int {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return -1
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return -1
	}
	n := 0
	for len(b) > 0 {
		key, k := uvarint(b)
		b = b[k:]
		switch key & 7 {
		case 0:
			_, k = uvarint(b)
			b = b[k:]
		case 1:
			b = b[8:]
		case 2:
			l, k := uvarint(b)
			b = b[k+int(l):]
		case 5:
			b = b[4:]
		default:
			return -1
		}
		if key>>3 == 2 {
			n++
		}
	}
	return n
}

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, len(b)
}
