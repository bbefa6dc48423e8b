// hostile: one probe per way a guest can attack or confuse the kernel beneath it (huge lengths, bad pointers,
// protected memory, raw fcntl commands, limits, bad flags, signal frames that cannot be pushed or popped). Each
// prints one deterministic line, so a native run and a goemu run compare exactly. Probes that end the process
// by a signal run alone: `hostile sigreturn`, `hostile altstack`.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"
)

const page = 4096

func sigreturnWithoutFrame()

var names = map[syscall.Errno]string{
	syscall.EFAULT: "EFAULT", syscall.EINVAL: "EINVAL", syscall.ENOMEM: "ENOMEM", syscall.EBADF: "EBADF",
	syscall.EMFILE: "EMFILE", syscall.EPERM: "EPERM", syscall.ENOSYS: "ENOSYS", syscall.ENOTTY: "ENOTTY",
	syscall.EACCES: "EACCES", syscall.ESRCH: "ESRCH", syscall.EAGAIN: "EAGAIN", syscall.ENOENT: "ENOENT",
}

func errName(e syscall.Errno) string {
	if n, ok := names[e]; ok {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

// show prints a raw syscall's outcome: the value, or the errno's name.
func show(name string, r uintptr, e syscall.Errno) {
	if e != 0 {
		fmt.Printf("%s: %s\n", name, errName(e))
	} else {
		fmt.Printf("%s: %d\n", name, int64(r))
	}
}

func sys(nr uintptr, a ...uintptr) (uintptr, syscall.Errno) {
	for len(a) < 6 {
		a = append(a, 0)
	}
	r, _, e := syscall.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return r, e
}

func probe(name string, nr uintptr, a ...uintptr) {
	r, e := sys(nr, a...)
	show(name, r, e)
}

func must(what string, err error) {
	if err != nil {
		fmt.Printf("%s: %v\n", what, err)
		os.Exit(1)
	}
}

func ptr(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }

// guarded maps four pages: two read-write, one PROT_NONE, one unmapped (a hole).
func guarded() uintptr {
	g, e := sys(syscall.SYS_MMAP, 0, 4*page, 3, 0x22, ^uintptr(0), 0)
	if e != 0 {
		must("mmap", e)
	}
	sys(syscall.SYS_MPROTECT, g+2*page, page, 0)
	sys(syscall.SYS_MUNMAP, g+3*page, page)
	return g
}

const rodataString = "a string constant in .rodata, long enough to hold sixteen bytes"

// blob is initialized data (.data/.noptrdata in the file): madvise(MADV_DONTNEED) brings back its file content.
var blob = [3 * page]byte{0: 1, page: 7, page + 1: 8, 2*page - 1: 9, 2*page + 5: 11}

func textAddr() uintptr {
	f := textAddr
	return **(**uintptr)(unsafe.Pointer(&f))
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "sigreturn":
			resetSegv()
			fmt.Println("ready")
			sigreturnWithoutFrame()
			fmt.Println("sigreturn returned")
		case "altstack":
			altstack()
		}
		return
	}
	dir, err := os.MkdirTemp("", "hostile")
	must("mkdirtemp", err)
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "data"))
	must("create", err)
	fd := f.Fd()
	g := guarded()

	buffers(fd, g)
	paths(g)
	memory(g)
	fcntls(fd)
	limits(dir)
	truncatedMapping(dir)
	divergences(g)
	fmt.Println("done")
}

// buffers: huge lengths are cut where the guest's memory ends; protections are honoured.
func buffers(fd, g uintptr) {
	data := make([]byte, 20000)
	for i := range data {
		data[i] = byte(i)
	}
	probe("write-setup", syscall.SYS_WRITE, fd, ptr(data), uintptr(len(data)))
	probe("write-huge-1<<46", syscall.SYS_WRITE, fd, g, 1<<46)
	probe("write-2GiB", syscall.SYS_WRITE, fd, g, 1<<31)
	probe("write-huge-1<<62", syscall.SYS_WRITE, fd, g, 1<<62)
	probe("write-negative", syscall.SYS_WRITE, fd, g, ^uintptr(0))
	probe("write-from-prot-none", syscall.SYS_WRITE, fd, g+2*page, 10)
	probe("write-across-prot-none", syscall.SYS_WRITE, fd, g+2*page-100, 1000)
	sys(syscall.SYS_LSEEK, fd, 0, 0)
	probe("read-huge-1<<46", syscall.SYS_READ, fd, g, 1<<46)
	sys(syscall.SYS_LSEEK, fd, 0, 0)
	probe("read-2GiB", syscall.SYS_READ, fd, g, 1<<31)
	probe("read-into-prot-none", syscall.SYS_READ, fd, g+2*page, 16)
	probe("read-into-text", syscall.SYS_READ, fd, textAddr(), 16)
	s := rodataString
	probe("read-into-rodata", syscall.SYS_READ, fd, *(*uintptr)(unsafe.Pointer(&s)), 16)
	ro, _ := sys(syscall.SYS_MMAP, 0, 2*page, 1, 0x22, ^uintptr(0), 0)
	probe("read-into-prot-read", syscall.SYS_READ, fd, ro, 16)
	fmt.Printf("prot-read-unchanged: %v\n", *(*byte)(unsafe.Pointer(ro)) == 0)
	probe("pread-into-text", syscall.SYS_PREAD64, fd, textAddr(), 16, 0)
	probe("pread-huge", syscall.SYS_PREAD64, fd, g, 1<<46, 0)
	iov := []uintptr{g, 1 << 40}
	probe("readv-huge", syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&iov[0])), 1)
	probe("readv-1025", syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&iov[0])), 1025)
	iov[1] = ^uintptr(0)
	probe("readv-negative-len", syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&iov[0])), 1)
	iov2 := []uintptr{g + page, 100, textAddr(), 100}
	sys(syscall.SYS_LSEEK, fd, 0, 0)
	probe("readv-second-into-text", syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&iov2[0])), 2)
	probe("getrandom-huge", 318, g, 1<<40, 0)
	probe("getrandom-into-text", 318, textAddr(), 16, 0)
	probe("getgroups-huge", syscall.SYS_GETGROUPS, 1<<40, g)
	probe("getgroups-negative", syscall.SYS_GETGROUPS, ^uintptr(0), g)
	r, e := sys(syscall.SYS_GETGROUPS, 1<<20, g)
	fmt.Printf("getgroups-1<<20: ok=%v\n", e == 0 && int(r) >= 0)
	probe("fstat-into-prot-none", syscall.SYS_FSTAT, fd, g+2*page)
	probe("fstat-across-prot-none", syscall.SYS_FSTAT, fd, g+2*page-64)
	probe("uname-into-page-1", syscall.SYS_UNAME, page)
	ep, _ := sys(syscall.SYS_EPOLL_CREATE1, 0)
	probe("epoll-wait-huge", syscall.SYS_EPOLL_WAIT, ep, g, 1<<30, 0)
	probe("epoll-wait-big", syscall.SYS_EPOLL_WAIT, ep, g, 1000000, 0)
	probe("epoll-wait-into-text", syscall.SYS_EPOLL_WAIT, ep, textAddr(), 10, 0)
	syscall.Close(int(ep))
	ts := []int64{0, 1000}
	probe("nanosleep-rem-into-text", syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts[0])), textAddr())
	probe("nanosleep-req-prot-none", syscall.SYS_NANOSLEEP, g+2*page, 0)
}

func paths(g uintptr) {
	exe := append([]byte("/proc/self/exe"), 0)
	probe("readlinkat-exe-negative", syscall.SYS_READLINKAT, ^uintptr(99), ptr(exe), g, ^uintptr(0))
	probe("readlink-exe-1<<32", syscall.SYS_READLINK, ptr(exe), g, 1<<32)
	probe("readlink-exe-into-text", syscall.SYS_READLINK, ptr(exe), textAddr(), 100)
	probe("open-path-prot-none", syscall.SYS_OPEN, g+2*page, 0, 0)
	probe("open-path-page-1", syscall.SYS_OPEN, page, 0, 0)
	name := append([]byte("hostile-name"), 0)
	probe("prctl-set-name-prot-none", syscall.SYS_PRCTL, 15, g+2*page)
	probe("prctl-get-name-into-text", syscall.SYS_PRCTL, 16, textAddr())
	probe("prctl-set-name", syscall.SYS_PRCTL, 15, ptr(name))
}

func memory(g uintptr) {
	vec := make([]byte, page)
	probe("mincore-3<<42", syscall.SYS_MINCORE, g, 3<<42, ptr(vec))
	probe("mincore-vec-into-text", syscall.SYS_MINCORE, g, 2*page, textAddr())
	probe("mincore-negative", syscall.SYS_MINCORE, g, ^uintptr(0)&^(page-1), ptr(vec))
	probe("munmap-beyond-task-size", syscall.SYS_MUNMAP, 1<<46, 1<<46)
	probe("munmap-wrapping", syscall.SYS_MUNMAP, g, ^uintptr(0)&^(page-1))
	probe("mprotect-wrapping", syscall.SYS_MPROTECT, g, ^uintptr(0)&^(page-1), 3)
	probe("madvise-hole", syscall.SYS_MADVISE, g, 4*page, 4)

	start := time.Now()
	p, e := sys(syscall.SYS_MMAP, 0, 16<<40, 0, 0x4022, ^uintptr(0), 0)
	show("mmap-16TiB-none", 0, e)
	probe("mprotect-16TiB-middle", syscall.SYS_MPROTECT, p+8<<40, 1<<30, 3)
	*(*byte)(unsafe.Pointer(p + 8<<40)) = 1
	probe("munmap-16TiB", syscall.SYS_MUNMAP, p, 16<<40)
	const big = 200 << 30
	p, e = sys(syscall.SYS_MMAP, 0, big, 3, 0x4022, ^uintptr(0), 0)
	show("mmap-200GiB-lazy", 0, e)
	if e == 0 {
		*(*byte)(unsafe.Pointer(p)) = 1
		*(*byte)(unsafe.Pointer(p + big - 1)) = 2
		fmt.Printf("touch-200GiB: %d %d\n", *(*byte)(unsafe.Pointer(p)), *(*byte)(unsafe.Pointer(p + big - 1)))
		probe("mprotect-200GiB-middle", syscall.SYS_MPROTECT, p+big/2, page, 1)
		probe("madvise-200GiB", syscall.SYS_MADVISE, p, big, 4)
		probe("munmap-200GiB", syscall.SYS_MUNMAP, p, big)
	}
	fmt.Printf("huge-mappings-fast: %v\n", time.Since(start) < 5*time.Second)
	probe("mmap-128TiB", syscall.SYS_MMAP, 0, 1<<47, 3, 0x4022, ^uintptr(0), 0)

	// The binary's own pages come back from the file after MADV_DONTNEED, as Linux re-reads them.
	d := (uintptr(unsafe.Pointer(&blob[0])) + page - 1) &^ (page - 1)
	b := (*[page]byte)(unsafe.Pointer(d))
	before := *b
	for i := range b {
		b[i] = 0xee
	}
	probe("madvise-data", syscall.SYS_MADVISE, d, page, 4)
	fmt.Printf("data-restored: %v\n", *b == before)
	t := textAddr() &^ (page - 1)
	probe("madvise-text", syscall.SYS_MADVISE, t, page, 4)
	fmt.Printf("text-runs: %v\n", textAddr() != 0)
}

func fcntls(fd uintptr) {
	probe("fcntl-dupfd-0x7fffffff", syscall.SYS_FCNTL, fd, syscall.F_DUPFD, 0x7fffffff)
	probe("fcntl-dupfd-cloexec-negative", syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, ^uintptr(0))
	r, e := sys(syscall.SYS_FCNTL, fd, syscall.F_DUPFD, 100)
	show("fcntl-dupfd-100", r, e)
	syscall.Close(int(r))
	probe("fcntl-unknown", syscall.SYS_FCNTL, fd, 12345, 0)
	probe("fcntl-getfd", syscall.SYS_FCNTL, fd, syscall.F_GETFD, 0)
	probe("fcntl-getown", syscall.SYS_FCNTL, fd, syscall.F_GETOWN, 0)
	probe("fcntl-getown-ex-bad", syscall.SYS_FCNTL, fd, 16, 8)
	own := []int32{7, 7}
	probe("fcntl-getown-ex", syscall.SYS_FCNTL, fd, 16, uintptr(unsafe.Pointer(&own[0])))
	fmt.Printf("owner: type %d pid %d\n", own[0], own[1])
	probe("fcntl-setown-ex-bad", syscall.SYS_FCNTL, fd, 15, 8)
	own[0], own[1] = 9, 0
	probe("fcntl-setown-ex-type-9", syscall.SYS_FCNTL, fd, 15, uintptr(unsafe.Pointer(&own[0])))
	own[0], own[1] = 1, int32(os.Getpid())
	probe("fcntl-setown-ex-self", syscall.SYS_FCNTL, fd, 15, uintptr(unsafe.Pointer(&own[0])))
	r, _ = sys(syscall.SYS_FCNTL, fd, syscall.F_GETOWN, 0)
	fmt.Printf("fcntl-getown-is-self: %v\n", int(r) == os.Getpid())
	probe("fcntl-setown-nonexistent", syscall.SYS_FCNTL, fd, syscall.F_SETOWN, 0x3ffffff0)
	probe("fcntl-setsig-65", syscall.SYS_FCNTL, fd, 10, 65)
	probe("fcntl-setsig-usr2", syscall.SYS_FCNTL, fd, 10, uintptr(syscall.SIGUSR2))
	probe("fcntl-getsig", syscall.SYS_FCNTL, fd, 11, 0)
	probe("fcntl-notify-hole", syscall.SYS_FCNTL, fd, 12345, 0)
	lk := make([]byte, 32)
	*(*int16)(unsafe.Pointer(&lk[0])) = syscall.F_WRLCK
	probe("fcntl-getlk", syscall.SYS_FCNTL, fd, syscall.F_GETLK, ptr(lk))
	fmt.Printf("getlk-type: %d\n", *(*int16)(unsafe.Pointer(&lk[0])))
	probe("fcntl-setlk-bad", syscall.SYS_FCNTL, fd, syscall.F_SETLK, 8)
	probe("fcntl-ofd-getlk", syscall.SYS_FCNTL, fd, 36, ptr(lk))
	var p [2]int32
	sys(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&p[0])), 0)
	probe("fcntl-getpipe-sz", syscall.SYS_FCNTL, uintptr(p[0]), 1032, 0)
	probe("fcntl-setpipe-sz", syscall.SYS_FCNTL, uintptr(p[0]), 1031, 131072)
	probe("ioctl-unknown", syscall.SYS_IOCTL, uintptr(p[0]), 0x1234, 0)
	probe("ioctl-fionread-into-text", syscall.SYS_IOCTL, uintptr(p[0]), 0x541b, textAddr())
	asyncSelf(uintptr(p[0]), uintptr(p[1]))
	syscall.Close(int(p[0]))
	syscall.Close(int(p[1]))
}

// asyncSelf: F_SETOWN(getpid) + F_SETSIG + O_ASYNC on a pipe makes Linux signal the process on input. Under goemu
// the process is the JVM, so goemu refuses O_ASYNC with EINVAL and nothing is signalled (HOSTILE_GOEMU=1 says which).
func asyncSelf(rd, wr uintptr) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	sys(syscall.SYS_FCNTL, rd, syscall.F_SETOWN, uintptr(os.Getpid()))
	sys(syscall.SYS_FCNTL, rd, 10, uintptr(syscall.SIGUSR1))
	fl, _ := sys(syscall.SYS_FCNTL, rd, syscall.F_GETFL, 0)
	_, e := sys(syscall.SYS_FCNTL, rd, syscall.F_SETFL, fl|syscall.O_ASYNC)
	sys(syscall.SYS_WRITE, wr, ptr([]byte("x")), 1)
	got := false
	select {
	case <-ch:
		got = true
	case <-time.After(500 * time.Millisecond):
	}
	sys(syscall.SYS_FCNTL, rd, syscall.F_SETFL, fl)
	want := "signal"
	if os.Getenv("HOSTILE_GOEMU") == "1" {
		want = "EINVAL, no signal"
	}
	have := fmt.Sprintf("%s, no signal", errName(e))
	if e == 0 && got {
		have = "signal"
	}
	fmt.Printf("fasync-self: as expected %v\n", have == want)
	if have != want {
		fmt.Printf("fasync-self: %s\n", have)
	}
}

func limits(dir string) {
	var old, lim syscall.Rlimit
	must("getrlimit", syscall.Getrlimit(syscall.RLIMIT_AS, &old))
	lim = old
	lim.Cur = 512 << 20
	fmt.Printf("setrlimit-as-512MiB: %v\n", syscall.Setrlimit(syscall.RLIMIT_AS, &lim))
	var back syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_AS, &back)
	fmt.Printf("getrlimit-as: %d\n", back.Cur)
	fmt.Printf("setrlimit-as-restore: %v\n", syscall.Setrlimit(syscall.RLIMIT_AS, &old))
	probe("getrlimit-bad-resource", syscall.SYS_GETRLIMIT, 99, uintptr(unsafe.Pointer(&back)))
	probe("getrlimit-into-text", syscall.SYS_GETRLIMIT, 7, textAddr())
	bad := syscall.Rlimit{Cur: 10, Max: 5}
	probe("setrlimit-cur-above-max", syscall.SYS_SETRLIMIT, 7, uintptr(unsafe.Pointer(&bad)))

	var nofile syscall.Rlimit
	must("getrlimit", syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile))
	probe("dup2-at-limit", syscall.SYS_DUP2, 1, uintptr(nofile.Cur))
	probe("dup3-at-limit", syscall.SYS_DUP3, 1, uintptr(nofile.Cur), 0)
	probe("dup3-bad-flags", syscall.SYS_DUP3, 1, 50, 1)
	small := nofile
	small.Cur = 64
	must("setrlimit", syscall.Setrlimit(syscall.RLIMIT_NOFILE, &small))
	var opened []int
	highest, err := -1, error(nil)
	for i := 0; i < 100; i++ {
		var fd int
		fd, err = syscall.Open(dir, syscall.O_RDONLY, 0)
		if err != nil {
			break
		}
		opened = append(opened, fd)
		highest = fd
	}
	fmt.Printf("nofile-64: highest fd %d, then %v\n", highest, err)
	probe("dup-at-limit", syscall.SYS_DUP, 1)
	var p [2]int32
	probe("pipe2-at-limit", syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&p[0])), 0)
	for _, fd := range opened {
		syscall.Close(fd)
	}
	probe("dup2-64", syscall.SYS_DUP2, 1, 64)
	probe("fcntl-dupfd-64", syscall.SYS_FCNTL, 1, syscall.F_DUPFD, 64)
	must("setrlimit", syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nofile))
}

// truncatedMapping: a shared mapping of a file the program then shrinks: an access past the new end is SIGBUS
// (here a recovered panic), and goemu must survive it (the host's SIGBUS would land inside the engine).
func truncatedMapping(dir string) {
	f, err := os.Create(filepath.Join(dir, "shrinking"))
	must("create", err)
	defer f.Close()
	must("truncate", f.Truncate(2*page))
	m, err := syscall.Mmap(int(f.Fd()), 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	must("mmap", err)
	m[page] = 1
	must("truncate", f.Truncate(100))
	m[50] = 2
	fmt.Printf("truncate-first-page: %d\n", m[50])
	fmt.Printf("truncate-second-page: %s\n", touch(m, page))
	syscall.Munmap(m)
}

func touch(m []byte, i int) (result string) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			result = "fault (recovered)"
		}
	}()
	m[i] = 3
	return "no fault"
}

func divergences(g uintptr) {
	probe("arch-prctl-set-fs-1<<63", syscall.SYS_ARCH_PRCTL, 0x1002, 1<<63)
	probe("arch-prctl-set-gs-1<<47", syscall.SYS_ARCH_PRCTL, 0x1001, 1<<47)
	probe("clone-thread-without-sighand", syscall.SYS_CLONE, 0x100|0x10000, 0, 0, 0, 0)
	probe("clone-every-flag", syscall.SYS_CLONE, ^uintptr(0), 0, 0, 0, 0)
	probe("clone-sighand-without-vm", syscall.SYS_CLONE, 0x800, 0, 0, 0, 0)
	r, _, _ := syscall.RawSyscall(0x100000027, 0, 0, 0)
	fmt.Printf("syscall-0x100000027-is-getpid: %v\n", int(r) == os.Getpid())

	// pipe2 and socketpair into a bad address create nothing: the next fd is the one before the call.
	before, _ := syscall.Dup(1)
	syscall.Close(before)
	probe("pipe2-into-text", syscall.SYS_PIPE2, textAddr(), 0)
	probe("pipe2-into-prot-none", syscall.SYS_PIPE2, g+2*page, 0)
	probe("socketpair-into-text", syscall.SYS_SOCKETPAIR, syscall.AF_UNIX, syscall.SOCK_STREAM, 0, textAddr())
	after, _ := syscall.Dup(1)
	syscall.Close(after)
	fmt.Printf("no-fd-leak: %v\n", before == after)
	probe("sigaltstack-old-into-text", syscall.SYS_SIGALTSTACK, 0, textAddr())
	probe("rt-sigaction-into-text", syscall.SYS_RT_SIGACTION, 10, 0, textAddr(), 8)
	probe("sched-getaffinity-huge", syscall.SYS_SCHED_GETAFFINITY, 0, 1<<40, g)
}

// resetSegv gives SIGSEGV its default action, so a forced SIGSEGV ends the process without Go's report.
func resetSegv() {
	var sa [4]uintptr // handler SIG_DFL, flags, restorer, mask
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&sa[0])), 0, 8, 0, 0); e != 0 {
		must("rt_sigaction", e)
	}
}

// altstack: a signal whose handler runs on an alternate stack in unmapped memory cannot be delivered: Linux
// forces SIGSEGV, whose handler (SA_ONSTACK too) fails the same way, and the process dies of SIGSEGV.
func altstack() {
	runtime.LockOSThread()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	// Printed first: any signal after the sigaltstack call (the runtime's own SIGURG too) ends the process.
	fmt.Println("ready")
	ss := [3]uintptr{0x1000, 0, 1 << 16} // ss_sp, ss_flags, ss_size
	if _, _, e := syscall.RawSyscall(syscall.SYS_SIGALTSTACK, uintptr(unsafe.Pointer(&ss[0])), 0, 0); e != 0 {
		must("sigaltstack", e)
	}
	syscall.RawSyscall(syscall.SYS_TGKILL, uintptr(os.Getpid()), uintptr(syscall.Gettid()), uintptr(syscall.SIGUSR1))
	<-ch
	fmt.Println("signal delivered")
}
