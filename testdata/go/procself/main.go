// procself reads its own /proc/self (and /proc/<pid>, /proc/thread-self) and prints what must be the same natively
// and under goemu: fd numbers, fd links, the binary in maps, comm, cmdline, environ, status, stat, auxv, limits,
// task, cwd, exe, fdinfo, and /proc/self/mem reading and writing its own globals (also through a symlink).
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

var secret = [8]byte{'g', 'o', 'e', 'm', 'u', '!', '!', '!'}

func read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

func fdNumbers() []int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fmt.Println("readdir fd:", err)
		return nil
	}
	var fds []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			fmt.Println("bad fd name", e.Name())
			continue
		}
		if e.Type()&os.ModeSymlink == 0 {
			fmt.Println("fd", n, "is not a symlink:", e.Type())
		}
		fds = append(fds, n)
	}
	sort.Ints(fds)
	return fds
}

func field(status, name string) string {
	for _, line := range strings.Split(status, "\n") {
		if strings.HasPrefix(line, name+":") {
			return strings.TrimSpace(strings.TrimPrefix(line, name+":"))
		}
	}
	return "<none>"
}

func main() {
	pid := os.Getpid()
	dir, err := os.MkdirTemp("", "procself")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	// fd/: the guest's fd numbers, each a symlink naming what it is.
	fmt.Println("fds at start:", fdNumbers())
	f, err := os.Create(filepath.Join(dir, "data"))
	if err != nil {
		panic(err)
	}
	fmt.Println("fds with a file open:", fdNumbers())
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	fmt.Println("file fd link is the file:", link == f.Name(), err)
	r, w, _ := os.Pipe()
	plink, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
	fmt.Println("pipe fd link:", strings.HasPrefix(plink, "pipe:["), strings.HasSuffix(plink, "]"))
	_, err = os.Readlink("/proc/self/fd/999")
	fmt.Println("missing fd link:", err != nil)
	// fd 1 redirected to the file: its link names the file.
	saved, _ := syscall.Dup(1)
	syscall.Dup2(int(f.Fd()), 1)
	link1, _ := os.Readlink("/proc/self/fd/1")
	syscall.Dup2(saved, 1)
	syscall.Close(saved)
	fmt.Println("fd 1 redirected names the file:", link1 == f.Name())
	// Opening /proc/self/fd/N opens what fd N is: the pipe's read end here.
	w.Write([]byte("through the pipe"))
	w.Close()
	again, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
	if err == nil {
		buf := make([]byte, 64)
		n, _ := again.Read(buf)
		fmt.Printf("reopened pipe reads %q\n", buf[:n])
		again.Close()
	} else {
		fmt.Println("reopen pipe:", err)
	}
	r.Close()
	fi, err := os.Stat(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	fmt.Println("stat of the file's fd link is the file:", err == nil && fi.Mode().IsRegular())
	fdinfo := read(fmt.Sprintf("/proc/self/fdinfo/%d", f.Fd()))
	fmt.Println("fdinfo has pos and flags:", strings.Contains(fdinfo, "pos:"), strings.Contains(fdinfo, "flags:"))

	// maps: the binary's segments with its path.
	maps := read("/proc/self/maps")
	lines := strings.Split(strings.TrimSpace(maps), "\n")
	first := strings.Fields(lines[0])
	exe, _ := os.Executable()
	fmt.Println("maps first line: perms", first[1], "offset", first[2], "names the binary:", first[len(first)-1] == exe)
	secretAddr := uintptr(unsafe.Pointer(&secret[0]))
	mainAddr := reflectFuncAddr()
	for _, l := range lines {
		fs := strings.Fields(l)
		var lo, hi uint64
		fmt.Sscanf(fs[0], "%x-%x", &lo, &hi)
		name := ""
		if len(fs) > 5 {
			name = fs[5]
		}
		if uint64(secretAddr) >= lo && uint64(secretAddr) < hi {
			fmt.Println("the global's mapping:", fs[1], "named binary:", name == exe)
		}
		if uint64(mainAddr) >= lo && uint64(mainAddr) < hi {
			fmt.Println("main's mapping:", fs[1], "named binary:", name == exe)
		}
	}
	fmt.Println("maps has [stack]:", strings.Contains(maps, "[stack]"))

	// comm, cmdline, environ, exe, cwd.
	fmt.Printf("comm: %q\n", read("/proc/self/comm"))
	cmdline := strings.Split(strings.TrimSuffix(read("/proc/self/cmdline"), "\x00"), "\x00")
	fmt.Printf("cmdline args: %q, argv[0] matches: %v\n", cmdline[1:], cmdline[0] == os.Args[0])
	environ := strings.Split(strings.TrimSuffix(read("/proc/self/environ"), "\x00"), "\x00")
	fmt.Println("environ is os.Environ:", strings.Join(environ, "\n") == strings.Join(os.Environ(), "\n"))
	exeLink, _ := os.Readlink("/proc/self/exe")
	fmt.Println("exe link is the binary:", exeLink == exe)
	lfi, err := os.Lstat("/proc/self/exe")
	fmt.Println("exe is a symlink:", err == nil && lfi.Mode()&os.ModeSymlink != 0)
	selfLink, _ := os.Readlink("/proc/self")
	fmt.Println("/proc/self links to the pid:", selfLink == strconv.Itoa(pid))
	os.Chdir(dir)
	cwd, _ := os.Readlink("/proc/self/cwd")
	real, _ := filepath.EvalSymlinks(dir)
	fmt.Println("cwd link is the new cwd:", cwd == real)
	rel, err := os.ReadFile("data")
	fmt.Println("relative read after chdir:", len(rel), err)

	// status and stat agree with getpid/getppid.
	status := read("/proc/self/status")
	fmt.Println("status Name:", field(status, "Name"))
	fmt.Println("status Pid, Tgid, PPid match:", field(status, "Pid") == strconv.Itoa(pid),
		field(status, "Tgid") == strconv.Itoa(pid), field(status, "PPid") == strconv.Itoa(os.Getppid()))
	threads, _ := strconv.Atoi(field(status, "Threads"))
	fmt.Println("status Threads > 0:", threads > 0)
	fmt.Println("status by pid has the same Name:", field(read(fmt.Sprintf("/proc/%d/status", pid)), "Name") == field(status, "Name"))
	stat := read("/proc/self/stat")
	close := strings.LastIndex(stat, ")")
	statFields := strings.Fields(stat[close+2:])
	fmt.Println("stat pid and comm:", strings.HasPrefix(stat, strconv.Itoa(pid)+" ("), stat[strings.Index(stat, "(")+1:close],
		"fields:", len(statFields)+2, "ppid matches:", statFields[1] == strconv.Itoa(os.Getppid()))

	// task/: the thread ids, the main one among them.
	tasks, _ := os.ReadDir("/proc/self/task")
	hasMain := false
	for _, t := range tasks {
		if t.Name() == strconv.Itoa(pid) {
			hasMain = true
		}
	}
	fmt.Println("task lists the main thread:", hasMain, "threads:", len(tasks) > 0)

	// auxv: AT_PAGESZ, ending with AT_NULL.
	auxv := []byte(read("/proc/self/auxv"))
	pagesz, last := uint64(0), uint64(1)
	for i := 0; i+16 <= len(auxv); i += 16 {
		k, v := binary.LittleEndian.Uint64(auxv[i:]), binary.LittleEndian.Uint64(auxv[i+8:])
		if k == 6 {
			pagesz = v
		}
		last = k
	}
	fmt.Println("auxv AT_PAGESZ:", pagesz, "ends with AT_NULL:", last == 0)

	// limits: RLIMIT_NOFILE as the process set it.
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = 100
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	limits := read("/proc/self/limits")
	fmt.Println("limits header:", strings.Fields(strings.Split(limits, "\n")[0]))
	for _, l := range strings.Split(limits, "\n") {
		if strings.HasPrefix(l, "Max open files") {
			fmt.Println("limits open files soft:", strings.Fields(l)[3])
		}
	}

	// mem: reads the global's bytes, writes one back, fails on an unmapped page.
	mem, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		fmt.Println("open mem:", err)
		return
	}
	buf := make([]byte, 8)
	n, err := mem.ReadAt(buf, int64(secretAddr))
	fmt.Printf("mem read %d %q %v\n", n, buf, err)
	n, err = mem.WriteAt([]byte("G"), int64(secretAddr))
	fmt.Printf("mem write %d %v, the global is now %q\n", n, err, secret[:])
	_, err = mem.ReadAt(buf, 0x1000)
	fmt.Println("mem read of an unmapped page:", err)
	mem.Seek(int64(secretAddr)+1, 0)
	n, _ = mem.Read(buf[:4])
	fmt.Printf("mem seek and read %q\n", buf[:n])
	mem.Close()
	ro, _ := os.Open("/proc/self/mem")
	_, err = ro.WriteAt([]byte("x"), int64(secretAddr))
	fmt.Println("mem write on a read-only fd fails:", err != nil)
	ro.Close()
	// Through a symlink: still this process's memory.
	os.Symlink("/proc/self/mem", filepath.Join(dir, "memlink"))
	viaLink, err := os.Open(filepath.Join(dir, "memlink"))
	if err == nil {
		n, err = viaLink.ReadAt(buf, int64(secretAddr))
		fmt.Printf("mem through a symlink %d %q %v\n", n, buf, err)
		viaLink.Close()
	} else {
		fmt.Println("open mem link:", err)
	}
	procDir, err := os.Open("/proc")
	if err == nil {
		fd, err := syscall.Openat(int(procDir.Fd()), "self/mem", os.O_RDONLY, 0)
		if err == nil {
			n, err = syscall.Pread(fd, buf, int64(secretAddr))
			fmt.Printf("mem through /proc dirfd %d %q %v\n", n, buf, err)
			syscall.Close(fd)
		} else {
			fmt.Println("openat self/mem:", err)
		}
		procDir.Close()
	}
	names, _ := os.ReadDir("/proc/self")
	has := map[string]bool{}
	for _, e := range names {
		has[e.Name()] = true
	}
	fmt.Println("/proc/self lists maps, fd, status, mem:", has["maps"], has["fd"], has["status"], has["mem"])
	f.Close()

	// A thread's own name: PR_SET_NAME on a locked thread, seen in thread-self and task/<tid>.
	runtime.LockOSThread()
	name := []byte("renamed-thread\x00")
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0)
	fmt.Printf("thread-self comm after PR_SET_NAME: %q\n", read("/proc/thread-self/comm"))
	fmt.Printf("task comm: %q\n", read(fmt.Sprintf("/proc/self/task/%d/comm", syscall.Gettid())))
	tstatus := read("/proc/thread-self/status")
	fmt.Println("thread-self status Pid is the tid:", field(tstatus, "Pid") == strconv.Itoa(syscall.Gettid()), "Tgid:", field(tstatus, "Tgid") == strconv.Itoa(pid))
	runtime.UnlockOSThread()
}

// reflectFuncAddr is the address of main.main's code.
func reflectFuncAddr() uintptr {
	fn := main
	return **(**uintptr)(unsafe.Pointer(&fn))
}
