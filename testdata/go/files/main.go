// files: create, write, append, read, seek, stat, rename, readdir, symlink, truncate and remove
// inside an os.MkdirTemp directory; prints contents and sizes (never the random directory name).
// Last, 16 bytes of /dev/urandom: only their count is printed, and they are written to /dev/null,
// where goemu's --strace shows them (a deterministic run's bytes come from its seed).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"
)

func check(what string, err error) {
	if err != nil {
		fmt.Printf("%s: unexpected error: %v\n", what, err)
		os.Exit(1)
	}
}

func main() {
	dir, err := os.MkdirTemp("", "goemu-files-")
	check("MkdirTemp", err)
	defer os.RemoveAll(dir)
	st, err := os.Stat(dir)
	check("stat dir", err)
	fmt.Println("temp dir is dir:", st.IsDir(), "name prefix ok:", strings.HasPrefix(filepath.Base(dir), "goemu-files-"))

	a := filepath.Join(dir, "a.txt")
	check("WriteFile", os.WriteFile(a, []byte("line one\nline two\n"), 0644))
	f, err := os.OpenFile(a, os.O_APPEND|os.O_WRONLY, 0)
	check("open append", err)
	n, err := f.WriteString("line three\n")
	check("append", err)
	check("close", f.Close())
	fmt.Println("appended bytes:", n)

	data, err := os.ReadFile(a)
	check("ReadFile", err)
	fmt.Printf("contents of a.txt (%d bytes):\n%s", len(data), data)

	st, err = os.Stat(a)
	check("stat", err)
	fmt.Println("stat: size", st.Size(), "mode", st.Mode(), "regular", st.Mode().IsRegular(), "name", st.Name())

	// Seek, ReadAt, partial reads.
	f, err = os.Open(a)
	check("open", err)
	off, err := f.Seek(5, io.SeekStart)
	check("seek", err)
	buf := make([]byte, 3)
	_, err = io.ReadFull(f, buf)
	check("read", err)
	fmt.Printf("seek %d read %q\n", off, buf)
	_, err = f.ReadAt(buf, 14)
	check("readat", err)
	fmt.Printf("readat 14: %q\n", buf)
	end, err := f.Seek(-6, io.SeekEnd)
	check("seek end", err)
	rest, err := io.ReadAll(f)
	check("readall", err)
	fmt.Printf("seek end-6 = %d: %q\n", end, rest)
	_, err = f.Read(buf)
	fmt.Println("read at EOF:", err == io.EOF)
	check("close", f.Close())

	// Line scanning of a bigger file written through bufio.
	b := filepath.Join(dir, "b.txt")
	f, err = os.Create(b)
	check("create", err)
	w := bufio.NewWriter(f)
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(w, "record %05d %s\n", i, strings.Repeat("x", i%50))
	}
	check("flush", w.Flush())
	check("close", f.Close())
	f, err = os.Open(b)
	check("open b", err)
	sc := bufio.NewScanner(f)
	lines, total := 0, 0
	last := ""
	for sc.Scan() {
		lines++
		total += len(sc.Text())
		last = sc.Text()
	}
	check("scan", sc.Err())
	f.Close()
	st, _ = os.Stat(b)
	fmt.Printf("b.txt: %d lines, %d chars, size %d, last %q\n", lines, total, st.Size(), last)

	// Rename, truncate, subdirectory, symlink, readdir.
	c := filepath.Join(dir, "c.txt")
	check("rename", os.Rename(a, c))
	_, err = os.Stat(a)
	fmt.Println("old name gone:", errors.Is(err, fs.ErrNotExist))
	check("truncate", os.Truncate(c, 8))
	data, _ = os.ReadFile(c)
	fmt.Printf("after truncate: %q\n", data)
	check("mkdir", os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0755))
	check("write deeper", os.WriteFile(filepath.Join(dir, "sub", "deeper", "d.bin"), make([]byte, 70000), 0600))
	check("symlink", os.Symlink("c.txt", filepath.Join(dir, "link")))
	target, err := os.Readlink(filepath.Join(dir, "link"))
	check("readlink", err)
	lst, err := os.Lstat(filepath.Join(dir, "link"))
	check("lstat", err)
	fmt.Println("symlink ->", target, "is symlink:", lst.Mode()&fs.ModeSymlink != 0)
	entries, err := os.ReadDir(dir)
	check("readdir", err)
	for _, e := range entries {
		info, err := e.Info()
		check("info", err)
		size := info.Size()
		if e.IsDir() {
			size = 0 // directory sizes depend on the file system
		}
		fmt.Printf("entry %-5s dir=%-5v size=%d\n", e.Name(), e.IsDir(), size)
	}
	walked := []string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		walked = append(walked, rel)
		return nil
	})
	fmt.Println("walk:", walked)

	// Errors.
	_, err = os.Open(filepath.Join(dir, "missing"))
	fmt.Println("open missing: ErrNotExist", errors.Is(err, fs.ErrNotExist))
	err = os.Mkdir(filepath.Join(dir, "sub"), 0755)
	fmt.Println("mkdir existing: ErrExist", errors.Is(err, fs.ErrExist))
	err = os.Remove(filepath.Join(dir, "sub"))
	fmt.Println("remove non-empty dir fails:", err != nil)

	check("remove", os.Remove(c))
	check("removeall", os.RemoveAll(filepath.Join(dir, "sub")))
	entries, _ = os.ReadDir(dir)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	fmt.Println("left:", names)
	check("final removeall", os.RemoveAll(dir))
	_, err = os.Stat(dir)
	fmt.Println("temp dir removed:", errors.Is(err, fs.ErrNotExist))

	random, err := os.Open("/dev/urandom")
	check("open urandom", err)
	st, err = random.Stat()
	check("stat urandom", err)
	buf = make([]byte, 16)
	n, err = io.ReadFull(random, buf)
	check("read urandom", err)
	fmt.Println("urandom: read", n, "bytes, char device:", st.Mode()&fs.ModeCharDevice != 0)
	check("close urandom", random.Close())
	null, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
	check("open null", err)
	_, err = null.Write(buf)
	check("write null", err)
	check("close null", null.Close())
	fdCalls()
}

// fdCalls: memfd_create, getresuid/getresgid and close_range, through raw syscalls as golang.org/x/sys/unix makes them.
func fdCalls() {
	name := []byte("goemu-memfd\x00")
	mfd, _, errno := syscall.Syscall(319, uintptr(unsafe.Pointer(&name[0])), 1, 0) // MFD_CLOEXEC
	fmt.Println("memfd_create:", errno == 0)
	if errno == 0 {
		n, err := syscall.Pwrite(int(mfd), []byte("in memory"), 0)
		var st syscall.Stat_t
		syscall.Fstat(int(mfd), &st)
		flags, _, _ := syscall.Syscall(syscall.SYS_FCNTL, mfd, syscall.F_GETFD, 0)
		fmt.Println("memfd: wrote", n, err, "size", st.Size, "regular", st.Mode&syscall.S_IFMT == syscall.S_IFREG, "cloexec", flags&1)
		syscall.Close(int(mfd))
	}
	var r, e, s int32
	_, _, errno = syscall.Syscall(syscall.SYS_GETRESUID, uintptr(unsafe.Pointer(&r)), uintptr(unsafe.Pointer(&e)), uintptr(unsafe.Pointer(&s)))
	fmt.Println("getresuid:", errno == 0, int(r) == syscall.Getuid(), int(e) == syscall.Geteuid())
	_, _, errno = syscall.Syscall(syscall.SYS_GETRESGID, uintptr(unsafe.Pointer(&r)), uintptr(unsafe.Pointer(&e)), uintptr(unsafe.Pointer(&s)))
	fmt.Println("getresgid:", errno == 0, int(r) == syscall.Getgid(), int(e) == syscall.Getegid())
	_, _, errno = syscall.Syscall(syscall.SYS_GETRESUID, 0, 0, 0)
	fmt.Println("getresuid(NULL):", errno)

	vf, err := os.CreateTemp("", "goemu-vec-")
	check("CreateTemp", err)
	defer os.Remove(vf.Name())
	head, tail := []byte("head-"), []byte("tail")
	iov := []syscall.Iovec{{Base: &head[0], Len: uint64(len(head))}, {Base: &tail[0], Len: uint64(len(tail))}}
	n, _, errno := syscall.Syscall6(syscall.SYS_PWRITEV, vf.Fd(), uintptr(unsafe.Pointer(&iov[0])), 2, 3, 0, 0)
	fmt.Println("pwritev at 3:", n, errno)
	a, b := make([]byte, 4), make([]byte, 6)
	iov = []syscall.Iovec{{Base: &a[0], Len: 4}, {Base: &b[0], Len: 6}}
	n, _, errno = syscall.Syscall6(syscall.SYS_PREADV, vf.Fd(), uintptr(unsafe.Pointer(&iov[0])), 2, 1, 0, 0)
	fmt.Printf("preadv at 1: %d %v %q\n", n, errno, append(append([]byte{}, a...), b...)[:n])
	const preadv2 = 327
	n, _, errno = syscall.Syscall6(preadv2, vf.Fd(), uintptr(unsafe.Pointer(&iov[0])), 2, ^uintptr(0), 0, 0)
	fmt.Printf("preadv2 at the file position: %d %v %q\n", n, errno, append(append([]byte{}, a...), b...)[:n])
	vf.Close()

	var p [2]int
	check("pipe", syscall.Pipe(p[:]))
	// Fds 100 and 101, above anything the runtime or this program holds, so the ranges touch nothing else.
	check("dup2", syscall.Dup2(p[0], 100))
	check("dup2", syscall.Dup2(p[1], 101))
	syscall.Close(p[0])
	syscall.Close(p[1])
	const closeRange = 436
	_, _, errno = syscall.Syscall(closeRange, 101, 101, 4) // CLOSE_RANGE_CLOEXEC
	flags, _, _ := syscall.Syscall(syscall.SYS_FCNTL, 101, syscall.F_GETFD, 0)
	fmt.Println("close_range cloexec:", errno, "flag", flags&1)
	_, _, errno = syscall.Syscall(closeRange, 100, 101, 0)
	_, _, e1 := syscall.Syscall(syscall.SYS_FCNTL, 100, syscall.F_GETFD, 0)
	_, _, e2 := syscall.Syscall(syscall.SYS_FCNTL, 101, syscall.F_GETFD, 0)
	fmt.Println("close_range:", errno, "closed:", e1, e2)
	_, _, errno = syscall.Syscall(closeRange, 10, 5, 0)
	fmt.Println("close_range first > last:", errno)
	_, _, errno = syscall.Syscall(closeRange, 10, 20, 1)
	fmt.Println("close_range bad flag:", errno)
}
