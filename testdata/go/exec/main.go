// exec: child processes through os/exec: native programs (sh, tr, sleep), this binary re-executed (an emulated
// child under goemu), pipes, exit codes, signals, process groups, extra files, working directories, start
// failures and concurrent children. Output is deterministic.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) > 1 {
		child(os.Args[1], os.Args[2:])
		return
	}
	self, err := os.Executable()
	check(err)
	shell()
	pipeline()
	reexec(self)
	grandchild(self)
	deadline(self)
	signals(self)
	groups(self)
	extraFiles()
	dirs(self)
	failures()
	concurrent(self)
	pidfds(self)
	umasks(self)
	fmt.Println("done")
}

// child runs the subcommands the parent re-executes this binary for.
func child(mode string, args []string) {
	switch mode {
	case "env":
		fmt.Printf("child: EXEC_TEST=%s args=%q\n", os.Getenv("EXEC_TEST"), args)
		os.Exit(7)
	case "grand":
		out, err := exec.Command("sh", "-c", "echo grandchild says $0", "hello").Output()
		fmt.Printf("child: grandchild %q %v\n", out, err)
	case "sleep":
		fmt.Println("ready")
		time.Sleep(10 * time.Second)
		fmt.Println("not killed")
	case "pgid":
		pgid, _ := syscall.Getpgid(0)
		fmt.Printf("child: own group %v, parent alive %v\n", pgid == os.Getpid(), os.Getppid() > 1)
	case "cwd":
		wd, err := os.Getwd()
		check(err)
		b, err := os.ReadFile("marker")
		fmt.Printf("child: cwd %s, marker %q %v\n", filepath.Base(wd), b, err)
	case "one-child": // for StraceChildrenTest: one emulated child, this binary again
		out, err := exec.Command(os.Args[0], "square", "3").Output()
		fmt.Printf("child: %q %v\n", out, err)
	case "umask":
		old := syscall.Umask(0)
		check(os.WriteFile(args[0], nil, 0666))
		st, err := os.Stat(args[0])
		check(err)
		fmt.Printf("child: umask %03o, new file %v\n", old, st.Mode())
	case "stdin":
		io.Copy(io.Discard, os.Stdin)
		os.Exit(5)
	case "emulated": // the exec-emulated case: only emulated children (this binary), never the host's programs
		self, err := os.Executable()
		check(err)
		reexec(self)
		deadline(self)
		concurrent(self)
	case "work":
		start := time.Now()
		x := 0
		for i := 0; i < 20000000; i++ {
			x += i % 7
		}
		time.Sleep(100 * time.Millisecond)
		fmt.Println("child: worked", x, time.Since(start) >= 100*time.Millisecond)
	case "square":
		var n int
		fmt.Sscan(args[0], &n)
		fmt.Println(n * n)
	default:
		fmt.Println("unknown mode", mode)
		os.Exit(2)
	}
}

func shell() {
	cmd := exec.Command("sh", "-c", "echo out; echo err >&2; exit 3")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	fmt.Printf("sh: stdout %q stderr %q err %v exit %d\n", stdout.String(), stderr.String(), err, cmd.ProcessState.ExitCode())
	out, err := exec.Command("sh", "-c", "echo combined; echo more >&2").CombinedOutput()
	fmt.Printf("combined: %q %v\n", out, err)
	out, err = exec.Command("true").Output()
	fmt.Printf("true: %q %v\n", out, err)
}

func pipeline() {
	cmd := exec.Command("tr", "a-z", "A-Z")
	in, err := cmd.StdinPipe()
	check(err)
	out, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	go func() {
		for i := 0; i < 3; i++ {
			fmt.Fprintf(in, "line %d of the pipeline\n", i)
		}
		in.Close()
	}()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fmt.Println("tr:", sc.Text())
	}
	fmt.Println("tr wait:", cmd.Wait())
}

func reexec(self string) {
	cmd := exec.Command(self, "env", "a b", "")
	cmd.Env = append(os.Environ(), "EXEC_TEST=changed")
	out, err := cmd.Output()
	fmt.Printf("reexec: %q %v exit %d\n", out, err, cmd.ProcessState.ExitCode())
}

func grandchild(self string) {
	out, err := exec.Command(self, "grand").Output()
	fmt.Printf("grand: %q %v\n", out, err)
}

// deadline: a child whose work (CPU, then a sleep) ends well within its context's deadline is not killed.
func deadline(self string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, self, "work").Output()
	fmt.Printf("deadline: %q %v\n", out, err)
}

func signals(self string) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := exec.CommandContext(ctx, "sleep", "10").Run()
	fmt.Printf("context: %v, quick %v\n", err, time.Since(start) < 5*time.Second)

	for _, sig := range []os.Signal{syscall.SIGTERM, os.Kill} {
		cmd := exec.Command(self, "sleep")
		out, err := cmd.StdoutPipe()
		check(err)
		check(cmd.Start())
		line, _ := bufio.NewReader(out).ReadString('\n')
		check(cmd.Process.Signal(sig))
		err = cmd.Wait()
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		fmt.Printf("signal %v: %q err %v state %q exit %d signaled %v %v\n", sig, line, err,
			cmd.ProcessState.String(), cmd.ProcessState.ExitCode(), ws.Signaled(), ws.Signal())
	}
	cmd := exec.Command("sh", "-c", "kill -INT $$")
	err = cmd.Run()
	fmt.Printf("sh killed itself: %v exit %d\n", err, cmd.ProcessState.ExitCode())
}

func groups(self string) {
	cmd := exec.Command(self, "pgid")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	fmt.Printf("setpgid: %q %v\n", out, err)
	cmd = exec.Command("sh", "-c", "test $(ps -o pgid= $$) = $$ && echo own group")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err = cmd.Output()
	fmt.Printf("sh setpgid: %q %v\n", out, err)
	// A group kill reaches every member: sh and its sleep.
	cmd = exec.Command("sh", "-c", "sleep 10; echo not killed")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	check(cmd.Start())
	time.Sleep(100 * time.Millisecond)
	check(syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM))
	fmt.Println("group kill:", cmd.Wait())
}

func extraFiles() {
	r, w, err := os.Pipe()
	check(err)
	cmd := exec.Command("sh", "-c", "echo via fd 3 >&3")
	cmd.ExtraFiles = []*os.File{w}
	check(cmd.Start())
	w.Close()
	b, err := io.ReadAll(r)
	fmt.Printf("extra files: %q %v wait %v\n", b, err, cmd.Wait())
}

func dirs(self string) {
	dir, err := os.MkdirTemp("", "exec-dir")
	check(err)
	defer os.RemoveAll(dir)
	check(os.WriteFile(filepath.Join(dir, "marker"), []byte("here"), 0o644))
	cmd := exec.Command("sh", "-c", "cat marker; basename $(pwd)")
	cmd.Dir = dir
	out, err := cmd.Output()
	fmt.Printf("sh dir: %q %v\n", strings.Replace(string(out), filepath.Base(dir), "DIR", 1), err)
	cmd = exec.Command(self, "cwd")
	cmd.Dir = dir
	out, err = cmd.Output()
	fmt.Printf("self dir: %q %v\n", strings.Replace(string(out), filepath.Base(dir), "DIR", 1), err)
}

func failures() {
	dir, err := os.MkdirTemp("", "exec-fail")
	check(err)
	defer os.RemoveAll(dir)
	plain := filepath.Join(dir, "plain")
	check(os.WriteFile(plain, []byte("#!/bin/sh\necho no\n"), 0o644))
	for _, c := range []*exec.Cmd{
		exec.Command("/nonexistent/program"),
		exec.Command(plain),
		{Path: "/bin/sh", Args: []string{"sh", "-c", "true"}, Dir: "/nonexistent/dir"},
		exec.Command("no-such-program-anywhere"),
	} {
		err := c.Run()
		fmt.Println("start failure:", strings.ReplaceAll(fmt.Sprint(err), dir, "DIR"))
	}
}

func concurrent(self string) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var results []string
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := exec.Command(self, "square", fmt.Sprint(i)).Output()
			mu.Lock()
			results = append(results, fmt.Sprintf("%02d^2=%s %v", i, strings.TrimSpace(string(out)), err))
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	sort.Strings(results)
	fmt.Println("concurrent:", strings.Join(results, ", "))
}

// pidfds: a pidfd of a running child (emulated, then native) is readable only once the child has ended,
// waitid(P_PIDFD) reaps it, and signalling it afterwards is ESRCH. Raw calls: Go 1.19 has no pidfd API.
func pidfds(self string) {
	for i, argv := range [][]string{{self, "stdin"}, {"sh", "-c", "read x; exit 6"}} {
		r, w, err := os.Pipe()
		check(err)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin = r
		check(cmd.Start())
		r.Close()
		fd, _, errno := syscall.Syscall(434, uintptr(cmd.Process.Pid), 0, 0) // pidfd_open
		if errno != 0 {
			fmt.Println("pidfd_open:", errno)
			return
		}
		before := pollIn(int(fd), 0)
		w.Close()
		after := pollIn(int(fd), -1)
		var info [128]byte
		_, _, werr := syscall.Syscall6(syscall.SYS_WAITID, 3, fd, uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED, 0, 0)
		code, status := *(*int32)(unsafe.Pointer(&info[8])), *(*int32)(unsafe.Pointer(&info[24]))
		_, _, serr := syscall.Syscall6(424, fd, 0, 0, 0, 0, 0) // pidfd_send_signal
		fmt.Printf("pidfd %s: readable before end %v, after %v; waitid %v code %d status %d; signal after reap: %v\n",
			[]string{"self", "sh"}[i], before, after, werr, code, status, serr)
		syscall.Close(int(fd))
	}
}

// umasks: files, directories and FIFOs created under umask 022 and 077 get the masked modes; children (a shell,
// this binary) inherit the umask; the parent's umask is its own again afterwards.
func umasks(self string) {
	dir, err := os.MkdirTemp("", "umask")
	check(err)
	defer os.RemoveAll(dir)
	start := syscall.Umask(022)
	for _, mask := range []int{022, 077} {
		syscall.Umask(mask)
		p := filepath.Join(dir, fmt.Sprintf("%03o", mask))
		check(os.WriteFile(p+"-file", nil, 0666))
		check(os.Mkdir(p+"-dir", 0777))
		check(syscall.Mkfifo(p+"-fifo", 0666))
		f, err := os.OpenFile(p+"-excl", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0640)
		check(err)
		f.Close()
		var modes []string
		for _, suffix := range []string{"-file", "-dir", "-fifo", "-excl"} {
			st, err := os.Stat(p + suffix)
			check(err)
			modes = append(modes, st.Mode().String())
		}
		sh, err := exec.Command("sh", "-c", "umask; : > "+p+"-sh; ls -l "+p+"-sh | cut -c1-10").Output()
		check(err)
		own, err := exec.Command(self, "umask", p+"-child").Output()
		check(err)
		fmt.Printf("umask %03o: %s; sh: %q; %s", mask, strings.Join(modes, " "), sh, own)
	}
	fmt.Printf("umask before restoring: %03o\n", syscall.Umask(start))
}

// pollIn polls one fd for POLLIN (timeout in ms, -1 none), retrying after signals (SIGCHLD interrupts it).
func pollIn(fd, timeout int) bool {
	pfd := struct {
		fd             int32
		events, revent int16
	}{int32(fd), 1, 0}
	for {
		n, _, errno := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(timeout))
		if errno != syscall.EINTR {
			return errno == 0 && n == 1 && pfd.revent&1 != 0
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Println("FAILED:", err)
		os.Exit(1)
	}
}
