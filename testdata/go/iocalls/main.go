// Command iocalls exercises the file and socket calls behind io.Copy and fd passing: splice (a TCP proxy),
// sendfile (file to TCP), copy_file_range (file to file), sendmsg/recvmsg with SCM_RIGHTS, SCM_CREDENTIALS,
// MSG_TRUNC and MSG_CTRUNC, poll and ppoll, and a FIFO. It prints results, never fd numbers or timings.
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	dir, err := os.MkdirTemp("", "iocalls")
	check(err)
	defer os.RemoveAll(dir)
	payload := make([]byte, 300_000)
	for i := range payload {
		payload[i] = byte(i*7 + i/1000)
	}
	tcpProxy(payload)
	fileToTCP(dir, payload)
	fileToFile(dir, payload)
	passFd()
	credentials()
	truncation()
	iovecLimit()
	pollPipe()
	fifo(dir)
}

func check(err error) {
	if err != nil {
		fmt.Println("FAILED:", err)
		os.Exit(1)
	}
}

func sum(b []byte) string {
	return fmt.Sprintf("%x", sha256.Sum256(b))[:16]
}

// tcpProxy: client -> proxy -> echo server -> proxy -> client; the proxy's io.Copy between two TCP
// connections uses splice.
func tcpProxy(payload []byte) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer echo.Close()
	go func() {
		c, err := echo.Accept()
		check(err)
		io.Copy(c, c)
		c.Close()
	}()
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer proxy.Close()
	go func() {
		front, err := proxy.Accept()
		check(err)
		back, err := net.Dial("tcp", echo.Addr().String())
		check(err)
		done := make(chan bool)
		go func() {
			io.Copy(back, front)
			back.(*net.TCPConn).CloseWrite()
			done <- true
		}()
		io.Copy(front, back)
		<-done
		front.Close()
		back.Close()
	}()
	client, err := net.Dial("tcp", proxy.Addr().String())
	check(err)
	go func() {
		client.Write(payload)
		client.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(client)
	check(err)
	client.Close()
	fmt.Printf("tcp proxy: %d bytes back, same: %v\n", len(got), bytes.Equal(got, payload))
}

// fileToTCP: io.Copy from an *os.File to a TCP connection uses sendfile.
func fileToTCP(dir string, payload []byte) {
	path := filepath.Join(dir, "src")
	check(os.WriteFile(path, payload, 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	result := make(chan []byte)
	go func() {
		c, err := ln.Accept()
		check(err)
		b, err := io.ReadAll(c)
		check(err)
		c.Close()
		result <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	check(err)
	f, err := os.Open(path)
	check(err)
	f.Seek(1000, io.SeekStart) // sendfile from the file's offset
	n, err := io.Copy(c, f)
	check(err)
	f.Close()
	c.Close()
	got := <-result
	fmt.Printf("file to tcp: copied %d, received %d, sum %s, want %s\n", n, len(got), sum(got), sum(payload[1000:]))
}

// fileToFile: io.Copy between two files uses copy_file_range; the offsets of both files move.
func fileToFile(dir string, payload []byte) {
	src, err := os.Open(filepath.Join(dir, "src"))
	check(err)
	defer src.Close()
	dst, err := os.Create(filepath.Join(dir, "dst"))
	check(err)
	dst.Write([]byte("head:"))
	n, err := io.Copy(dst, src)
	check(err)
	off, _ := dst.Seek(0, io.SeekCurrent)
	dst.Close()
	got, err := os.ReadFile(filepath.Join(dir, "dst"))
	check(err)
	fmt.Printf("file to file: copied %d, offset %d, same: %v\n", n, off, bytes.Equal(got[5:], payload))

	// copy_file_range with explicit offsets leaves the file offsets alone.
	a, _ := os.Open(filepath.Join(dir, "src"))
	b, _ := os.OpenFile(filepath.Join(dir, "part"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	inOff, outOff := int64(10), int64(0)
	r, _, errno := syscall.Syscall6(326, a.Fd(), uintptr(unsafe.Pointer(&inOff)), b.Fd(), uintptr(unsafe.Pointer(&outOff)), 100, 0)
	pos, _ := a.Seek(0, io.SeekCurrent)
	fmt.Printf("copy_file_range offsets: %d %v, in %d out %d, file offset %d\n", r, errno == 0, inOff, outOff, pos)
	_, _, errno = syscall.Syscall6(326, a.Fd(), 0, b.Fd(), 0, 10, 1)
	fmt.Printf("copy_file_range flags 1: %v\n", errno)
	a.Close()
	b.Close()
}

// passFd sends the write end of a pipe over a unix socketpair; the receiver writes through it.
func passFd() {
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	check(err)
	defer syscall.Close(sp[0])
	defer syscall.Close(sp[1])
	var p [2]int
	check(syscall.Pipe(p[:]))
	defer syscall.Close(p[0])
	check(syscall.Sendmsg(sp[0], []byte("fd"), syscall.UnixRights(p[1]), nil, 0))
	syscall.Close(p[1]) // the receiver's copy keeps the pipe open

	buf, oob := make([]byte, 16), make([]byte, syscall.CmsgSpace(4))
	n, oobn, flags, _, err := syscall.Recvmsg(sp[1], buf, oob, syscall.MSG_CMSG_CLOEXEC)
	check(err)
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	check(err)
	fds, err := syscall.ParseUnixRights(&msgs[0])
	check(err)
	fdFlags, _, _ := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_GETFD, 0)
	fmt.Printf("recvmsg: %q, %d fd(s), flags %d, cloexec %v\n", buf[:n], len(fds), flags, fdFlags&syscall.FD_CLOEXEC != 0)
	syscall.Write(fds[0], []byte("written through the passed fd"))
	syscall.Close(fds[0])
	got, _ := io.ReadAll(os.NewFile(uintptr(p[0]), "pipe"))
	fmt.Printf("pipe read: %q\n", got)

	// A closed fd cannot be sent.
	err = syscall.Sendmsg(sp[0], []byte("x"), syscall.UnixRights(p[1]), nil, 0)
	fmt.Println("send closed fd:", err)
}

// credentials: SCM_CREDENTIALS carries the sender's pid, uid and gid.
func credentials() {
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	check(err)
	defer syscall.Close(sp[0])
	defer syscall.Close(sp[1])
	check(syscall.SetsockoptInt(sp[1], syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1))
	cred := &syscall.Ucred{Pid: int32(os.Getpid()), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	check(syscall.Sendmsg(sp[0], []byte("c"), syscall.UnixCredentials(cred), nil, 0))
	buf, oob := make([]byte, 4), make([]byte, syscall.CmsgSpace(syscall.SizeofUcred))
	_, oobn, _, _, err := syscall.Recvmsg(sp[1], buf, oob, 0)
	check(err)
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	check(err)
	got, err := syscall.ParseUnixCredentials(&msgs[0])
	check(err)
	fmt.Printf("credentials: pid is mine %v, uid %v, gid %v\n", got.Pid == int32(os.Getpid()), got.Uid == uint32(os.Getuid()), got.Gid == uint32(os.Getgid()))
	bad := &syscall.Ucred{Pid: 1, Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	if os.Getuid() != 0 {
		fmt.Println("credentials of pid 1:", syscall.Sendmsg(sp[0], []byte("c"), syscall.UnixCredentials(bad), nil, 0))
	} else {
		fmt.Println("credentials of pid 1: operation not permitted") // root may claim any pid
	}
}

// truncation: MSG_TRUNC gives a datagram's real length; too little control room sets MSG_CTRUNC.
func truncation() {
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	check(err)
	defer syscall.Close(sp[0])
	defer syscall.Close(sp[1])
	check(syscall.Sendmsg(sp[0], bytes.Repeat([]byte("d"), 100), nil, nil, 0))
	buf := make([]byte, 10)
	n, _, flags, _, err := syscall.Recvmsg(sp[1], buf, nil, syscall.MSG_TRUNC)
	check(err)
	fmt.Printf("MSG_TRUNC: n %d, truncated %v\n", n, flags&syscall.MSG_TRUNC != 0)

	var p [2]int
	check(syscall.Pipe(p[:]))
	check(syscall.Sendmsg(sp[0], []byte("x"), syscall.UnixRights(p[0], p[1], p[0]), nil, 0))
	syscall.Close(p[0])
	syscall.Close(p[1])
	oob := make([]byte, syscall.CmsgSpace(4))
	_, oobn, flags, _, err := syscall.Recvmsg(sp[1], buf, oob, 0)
	check(err)
	msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
	fds, _ := syscall.ParseUnixRights(&msgs[0])
	for _, fd := range fds {
		syscall.Close(fd)
	}
	fmt.Printf("MSG_CTRUNC: %v, %d of 3 fds\n", flags&syscall.MSG_CTRUNC != 0, len(fds))

	// Receiving with MSG_DONTWAIT on an empty blocking socket does not wait.
	_, _, _, _, err = syscall.Recvmsg(sp[1], buf, nil, syscall.MSG_DONTWAIT)
	fmt.Println("MSG_DONTWAIT on empty:", err)
}

// iovecLimit: more than UIO_MAXIOV iovecs are refused; a negative length too.
func iovecLimit() {
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	check(err)
	defer syscall.Close(sp[0])
	defer syscall.Close(sp[1])
	b := []byte("v")
	iov := make([]syscall.Iovec, 1025)
	for i := range iov {
		iov[i] = syscall.Iovec{Base: &b[0], Len: 1}
	}
	for _, n := range []int{1024, 1025} {
		msg := syscall.Msghdr{Iov: &iov[0], Iovlen: uint64(n)}
		r, _, errno := syscall.Syscall(syscall.SYS_SENDMSG, uintptr(sp[0]), uintptr(unsafe.Pointer(&msg)), 0)
		fmt.Printf("sendmsg %d iovecs: %d %v\n", n, int(r), errno)
	}
	iov[0].Len = 1 << 63
	msg := syscall.Msghdr{Iov: &iov[0], Iovlen: 1}
	_, _, errno := syscall.Syscall(syscall.SYS_SENDMSG, uintptr(sp[0]), uintptr(unsafe.Pointer(&msg)), 0)
	fmt.Println("sendmsg negative length:", errno)
	// sendmmsg of two messages, then recvmmsg of both with MSG_WAITFORONE.
	type mmsghdr struct {
		hdr syscall.Msghdr
		n   uint32
		_   [4]byte
	}
	a, c := []byte("first"), []byte("second!")
	iovs := []syscall.Iovec{{Base: &a[0], Len: uint64(len(a))}, {Base: &c[0], Len: uint64(len(c))}}
	out := []mmsghdr{{hdr: syscall.Msghdr{Iov: &iovs[0], Iovlen: 1}}, {hdr: syscall.Msghdr{Iov: &iovs[1], Iovlen: 1}}}
	r, _, errno := syscall.Syscall6(307, uintptr(sp[0]), uintptr(unsafe.Pointer(&out[0])), 2, 0, 0, 0)
	fmt.Printf("sendmmsg: %d %v, lengths %d %d\n", int(r), errno, out[0].n, out[1].n)
	b1, b2 := make([]byte, 16), make([]byte, 16)
	riovs := []syscall.Iovec{{Base: &b1[0], Len: 16}, {Base: &b2[0], Len: 16}}
	in := []mmsghdr{{hdr: syscall.Msghdr{Iov: &riovs[0], Iovlen: 1}}, {hdr: syscall.Msghdr{Iov: &riovs[1], Iovlen: 1}}}
	r, _, errno = syscall.Syscall6(299, uintptr(sp[1]), uintptr(unsafe.Pointer(&in[0])), 2, 0x10000, 0, 0)
	fmt.Printf("recvmmsg: %d %v, %q %q\n", int(r), errno, b1[:in[0].n], b2[:in[1].n])
}

type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

func poll(fds []pollFd, timeoutMs int) (int, syscall.Errno) {
	var p unsafe.Pointer
	if len(fds) > 0 {
		p = unsafe.Pointer(&fds[0])
	}
	r, _, errno := syscall.Syscall(syscall.SYS_POLL, uintptr(p), uintptr(len(fds)), uintptr(timeoutMs))
	return int(r), errno
}

// pollPipe: poll times out on an empty pipe, sees data ready, waits for a writer, reports a bad fd.
func pollPipe() {
	var p [2]int
	check(syscall.Pipe(p[:]))
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	fds := []pollFd{{fd: int32(p[0]), events: 1}}
	start := time.Now()
	n, errno := poll(fds, 50)
	fmt.Printf("poll empty pipe: %d %v, waited >= 50ms %v\n", n, errno, time.Since(start) >= 50*time.Millisecond)

	syscall.Write(p[1], []byte("x"))
	fds = []pollFd{{fd: int32(p[0]), events: 1}, {fd: int32(p[1]), events: 4}, {fd: -1, events: 1}}
	n, errno = poll(fds, 1000)
	fmt.Printf("poll ready: %d %v, revents %d %d %d\n", n, errno, fds[0].revents, fds[1].revents, fds[2].revents)
	buf := make([]byte, 1)
	syscall.Read(p[0], buf)

	go func() {
		time.Sleep(30 * time.Millisecond)
		syscall.Write(p[1], []byte("y"))
	}()
	fds = []pollFd{{fd: int32(p[0]), events: 1}}
	n, errno = poll(fds, -1)
	for errno == syscall.EINTR { // the runtime's preemption signal (SIGURG) may interrupt the wait natively
		n, errno = poll(fds, -1)
	}
	fmt.Printf("poll woken by a writer: %d %v, revents %d\n", n, errno, fds[0].revents)
	syscall.Read(p[0], buf)

	fds = []pollFd{{fd: 999, events: 1}}
	n, errno = poll(fds, 0)
	fmt.Printf("poll closed fd: %d %v, revents %#x\n", n, errno, fds[0].revents)
	_, errno = poll(make([]pollFd, 1<<21), 0)
	fmt.Println("poll too many fds:", errno)

	// ppoll with a timespec: times out, and with data ready returns at once.
	ts := syscall.Timespec{Nsec: 20_000_000}
	fds = []pollFd{{fd: int32(p[0]), events: 1}}
	r, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	fmt.Printf("ppoll timeout: %d %v\n", int(r), errno)
	syscall.Write(p[1], []byte("z"))
	r, _, errno = syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, 0, 0, 0, 0)
	fmt.Printf("ppoll ready: %d %v, revents %d\n", int(r), errno, fds[0].revents)
	bad := syscall.Timespec{Nsec: 2_000_000_000}
	_, _, errno = syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&bad)), 0, 0, 0)
	fmt.Println("ppoll bad timespec:", errno)
}

// fifo: mkfifo, then a writer goroutine and a reader open it (each open waits for the other end).
func fifo(dir string) {
	path := filepath.Join(dir, "fifo")
	check(syscall.Mkfifo(path, 0o600))
	fi, err := os.Stat(path)
	check(err)
	fmt.Println("mkfifo: named pipe", fi.Mode()&os.ModeNamedPipe != 0)
	err = syscall.Mkfifo(path, 0o600)
	fmt.Println("mkfifo again:", err)
	check(syscall.Mknod(filepath.Join(dir, "regular"), syscall.S_IFREG|0o600, 0))
	fi, err = os.Stat(filepath.Join(dir, "regular"))
	check(err)
	fmt.Println("mknod regular:", fi.Mode().IsRegular(), fi.Size())

	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		check(err)
		w.Write([]byte("through the fifo"))
		w.Close()
	}()
	r, err := os.Open(path)
	check(err)
	got, err := io.ReadAll(r)
	check(err)
	r.Close()
	fmt.Printf("fifo read: %q\n", got)
}
