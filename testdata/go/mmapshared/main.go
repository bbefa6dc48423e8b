// mmapshared: MAP_SHARED file mappings reach the file and every other mapping of it; MAP_PRIVATE ones do not.
// Partial munmap, MAP_FIXED over part of a mapping, madvise, msync, mincore, pages past the end of the file,
// and the errors Linux gives for bad offsets, read-only fds and unknown flags with MAP_SHARED_VALIDATE.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"unsafe"
)

const page = 4096

func check(what string, err error) {
	if err != nil {
		fmt.Printf("%s: %v\n", what, err)
		os.Exit(1)
	}
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }

func msync(b []byte) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MSYNC, addr(b), uintptr(len(b)), 4 /* MS_SYNC */); e != 0 {
		return e
	}
	return nil
}

func rawMmap(at uintptr, length, prot, flags, fd int, off int64) (uintptr, error) {
	r, _, e := syscall.Syscall6(syscall.SYS_MMAP, at, uintptr(length), uintptr(prot), uintptr(flags), uintptr(fd), uintptr(off))
	if e != 0 {
		return 0, e
	}
	return r, nil
}

func rawMunmap(at uintptr, length int) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MUNMAP, at, uintptr(length), 0); e != 0 {
		return e
	}
	return nil
}

// show prints a file's bytes with runs of NULs shortened, so pages read back compactly.
func show(what string, data []byte) {
	var out bytes.Buffer
	zeros := 0
	flush := func() {
		if zeros > 0 {
			fmt.Fprintf(&out, "<%d NUL>", zeros)
			zeros = 0
		}
	}
	for _, c := range data {
		if c == 0 {
			zeros++
			continue
		}
		flush()
		out.WriteByte(c)
	}
	flush()
	fmt.Printf("%s (%d bytes): %q\n", what, len(data), out.String())
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	check("read back", err)
	return b
}

// faultOffset touches b[i] and reports where the fault was, relative to b, or that there was none.
func faultOffset(b []byte, i int, write bool) (res string) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if a, ok := r.(interface{ Addr() uintptr }); ok {
			res = fmt.Sprintf("fault at offset %#x", a.Addr()-addr(b))
		} else {
			res = fmt.Sprint("panic: ", r)
		}
	}()
	if write {
		b[i] = 'w'
		return "no fault"
	}
	return fmt.Sprintf("no fault, read %q", b[i])
}

func main() {
	dir, err := os.MkdirTemp("", "mmapshared")
	check("mkdtemp", err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "data")

	// A file extended with ftruncate, mapped shared read-write, written through the mapping.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	check("create", err)
	fd := int(f.Fd())
	check("ftruncate", syscall.Ftruncate(fd, 3*page))
	m, err := syscall.Mmap(fd, 0, 3*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	check("mmap shared", err)
	copy(m, "page zero")
	copy(m[page:], "page one")
	copy(m[2*page:], "page two")
	check("msync", msync(m))
	show("file after msync", readFile(path))

	// A second shared mapping of the file sees writes through the first, and writes through the file itself.
	m2, err := syscall.Mmap(fd, page, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	check("mmap second", err)
	copy(m[page+5:], "ONE")
	fmt.Printf("second mapping sees: %q\n", m2[:8])
	copy(m2[page:], "PAGE")
	fmt.Printf("first mapping sees: %q\n", m[2*page:2*page+8])
	_, err = f.WriteAt([]byte("pwrite"), 2*page+5)
	check("pwrite", err)
	fmt.Printf("mappings see pwrite: %q %q\n", m[2*page:2*page+11], m2[page:page+11])

	// A private mapping's writes stay private.
	p, err := syscall.Mmap(fd, 0, page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	check("mmap private", err)
	copy(p, "PRIVATE")
	fmt.Printf("private mapping: %q, shared mapping: %q\n", p[:9], m[:9])
	check("munmap private", syscall.Munmap(p))

	// mincore: pages just written are resident.
	vec := make([]byte, 3)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, addr(m), 3*page, addr(vec)); e != 0 {
		check("mincore", e)
	}
	fmt.Printf("mincore: %v\n", vec)

	// MADV_DONTNEED on a shared file mapping drops the pages: they are read from the file again, not zeroed.
	check("madvise", syscall.Madvise(m[:page], syscall.MADV_DONTNEED))
	fmt.Printf("after MADV_DONTNEED: %q\n", m[:9])

	// MAP_FIXED private anonymous memory over the middle page: writes there leave the file alone.
	base := addr(m)
	_, err = rawMmap(base+page, page, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED, -1, 0)
	check("mmap fixed", err)
	fmt.Printf("fixed page reads: %q\n", m[page:page+4])
	copy(m[page:], "anonymous")
	copy(m[2*page:], "still shared")

	// munmap of the middle page: both ends stay mapped, the middle faults.
	check("munmap middle", rawMunmap(base+page, page))
	copy(m, "end zero")
	fmt.Println("middle page:", faultOffset(m, page+1, false))
	fmt.Printf("ends: %q %q\n", m[:8], m[2*page:2*page+12])
	check("munmap ends", rawMunmap(base, page))
	check("munmap ends", rawMunmap(base+2*page, page))
	check("munmap second", syscall.Munmap(m2))
	show("file after munmap", readFile(path))

	// Pages past the end of the file: SIGBUS natively, recovered here as a fault at their address.
	check("ftruncate", syscall.Ftruncate(fd, 100))
	m, err = syscall.Mmap(fd, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	check("mmap past eof", err)
	fmt.Println("last byte of the file's page:", faultOffset(m, page-1, false))
	fmt.Println("page past the end:", faultOffset(m, page+8, true))
	copy(m[90:], "0123456789ABCDEF") // the tail of the last page does not reach the file
	check("munmap", syscall.Munmap(m))
	show("file after short mapping", readFile(path))
	check("close", f.Close())

	// Errors: a read-only fd cannot be mapped shared and writable, nor made writable later; bad offsets; unknown
	// flags with MAP_SHARED_VALIDATE; MAP_SHARED_VALIDATE with MAP_ANONYMOUS.
	ro, err := os.Open(path)
	check("open read-only", err)
	_, err = syscall.Mmap(int(ro.Fd()), 0, page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	fmt.Println("read-only fd, PROT_WRITE:", err)
	r, err := syscall.Mmap(int(ro.Fd()), 0, page, syscall.PROT_READ, syscall.MAP_SHARED)
	check("mmap read-only", err)
	fmt.Printf("read-only mapping: %q\n", r[:10])
	fmt.Println("mprotect to PROT_WRITE:", syscall.Mprotect(r, syscall.PROT_READ|syscall.PROT_WRITE))
	fmt.Println("mprotect to PROT_NONE:", syscall.Mprotect(r, syscall.PROT_NONE))
	fmt.Println("read of PROT_NONE:", faultOffset(r, 3, false))
	fmt.Println("mprotect back to PROT_READ:", syscall.Mprotect(r, syscall.PROT_READ))
	fmt.Println("write to PROT_READ:", faultOffset(r, 3, true))
	check("munmap read-only", syscall.Munmap(r))
	_, err = syscall.Mmap(int(ro.Fd()), 100, page, syscall.PROT_READ, syscall.MAP_SHARED)
	fmt.Println("unaligned offset:", err)
	_, err = rawMmap(0, page, syscall.PROT_READ, 0x03|0x200, int(ro.Fd()), 0)
	fmt.Println("MAP_SHARED_VALIDATE with an unknown flag:", err)
	_, err = rawMmap(0, page, syscall.PROT_READ, 0x03|syscall.MAP_POPULATE, int(ro.Fd()), 0)
	fmt.Println("MAP_SHARED_VALIDATE with MAP_POPULATE:", err)
	_, err = rawMmap(0, page, syscall.PROT_READ, 0x03|syscall.MAP_ANON, -1, 0)
	fmt.Println("MAP_SHARED_VALIDATE with MAP_ANONYMOUS:", err)
	_, err = rawMmap(0, page, syscall.PROT_READ, 0, int(ro.Fd()), 0)
	fmt.Println("no mapping type:", err)
	check("close", ro.Close())

	// Shared anonymous memory.
	a, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANON)
	check("mmap shared anonymous", err)
	copy(a[page:], "shared anon")
	fmt.Printf("shared anonymous: %q\n", a[page:page+11])
	check("madvise", syscall.Madvise(a, syscall.MADV_DONTNEED))
	fmt.Printf("after MADV_DONTNEED (shmem keeps it): %q\n", a[page:page+11])
	check("munmap shared anonymous", syscall.Munmap(a))
}
