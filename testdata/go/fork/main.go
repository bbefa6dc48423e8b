// fork: fork(2) by raw syscall. The child has a copy of the parent's memory (its writes to a global, the heap and
// a private mapping stay its own), shares MAP_SHARED|MAP_ANONYMOUS memory with it, inherits its fds (it writes to a
// pipe), and its exit status or killing signal reaches wait4. The child makes only raw syscalls: it is one thread
// of a Go program whose other threads did not come along.
package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

var counter = 100

func main() {
	shared, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANON)
	check(err)
	private, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	check(err)
	heap := make([]byte, 6)
	copy(heap, "parent")
	var p [2]int
	check(syscall.Pipe2(p[:], syscall.O_CLOEXEC))
	msg := []byte("child: counter ?\n")

	pid := fork(func() {
		counter++
		msg[15] = byte('0' + counter%10)
		copy(heap, "child!")
		shared[0], private[0] = 'S', 'P'
		syscall.RawSyscall(syscall.SYS_WRITE, uintptr(p[1]), uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)))
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 7, 0, 0)
	})
	check(syscall.Close(p[1]))
	var buf [64]byte
	n, err := syscall.Read(p[0], buf[:])
	check(err)
	fmt.Printf("from the child: %q\n", buf[:n])
	fmt.Println("wait:", wait(pid))
	fmt.Printf("parent: counter %d, heap %q, shared %q, private %q\n", counter, heap, shared[0], private[0])

	pid = fork(func() {
		me, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
		syscall.RawSyscall(syscall.SYS_KILL, me, uintptr(syscall.SIGKILL), 0)
	})
	fmt.Println("wait:", wait(pid))
}

// fork runs child in a forked process, which must end there; returns the child's pid in the parent.
func fork(child func()) int {
	syscall.ForkLock.Lock()
	pid, _, errno := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if errno == 0 && pid == 0 {
		child()
		for {
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 99, 0, 0)
		}
	}
	syscall.ForkLock.Unlock()
	if errno != 0 {
		panic(errno)
	}
	return int(pid)
}

func wait(pid int) string {
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, 0, nil)
	check(err)
	return fmt.Sprintf("same pid %v, exited %v code %d, signaled %v %v", got == pid, ws.Exited(), ws.ExitStatus(), ws.Signaled(), ws.Signal())
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
