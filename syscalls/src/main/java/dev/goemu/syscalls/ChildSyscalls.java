package dev.goemu.syscalls;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Processes as a family: execve, wait4/waitid, process groups and sessions, parent pid. The table they act on is
 * JVM-wide ({@link Processes}); a blocked wait is re-run when another process's thread reports a child's end.
 */
final class ChildSyscalls {
    static final int CLD_EXITED = 1;
    private static final int WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x1000000;
    private static final int WNOTHREAD = 0x20000000, WALL = 0x40000000, WCLONE = 0x80000000;
    private static final int SIGCHLD = 17, P_PIDFD = 3, PIDFD_NONBLOCK = 0x800;
    /** Linux's limits: MAX_ARG_STRLEN for one string, and a total like the default 8 MiB stack's quarter. */
    private static final int MAX_ARG_STRLEN = 131072, MAX_ARG_TOTAL = 2 << 20, MAX_ARGS = 0x7fff;
    private static final int AT_EMPTY_PATH = 0x1000, X_OK = 1;

    private final Kernel k;
    /** Tasks blocked in wait4/waitid. */
    private final Set<Task> waiters = new LinkedHashSet<>();

    ChildSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.WAIT4, "dxdx", (task, a) -> wait4(task, (int) a[0], a[1], (int) a[2], a[3]));
        t.add(Sys.WAITID, "ddxdx", (task, a) -> waitid(task, (int) a[0], (int) a[1], a[2], (int) a[3], a[4]));
        t.add(Sys.EXECVE, "sxx", (task, a) -> execve(task, -100, a[0], a[1], a[2], 0));
        t.add(Sys.EXECVEAT, "fsxxd", (task, a) -> execve(task, (int) a[0], a[1], a[2], a[3], (int) a[4]));
        t.add(Sys.GETPPID, "", (task, a) -> {
            GuestProcess parent = k.process.parent;
            if (parent != null) return parent.pid();
            // the root's parent is goemu's (a fixed 1 in deterministic mode); an orphan's is init
            return k.process.root && k.deterministic() == null ? Host.syscall(110, 0, 0, 0) : 1;
        });
        t.add(Sys.GETPGRP, "", (task, a) -> k.process.pgid);
        t.add(Sys.GETPGID, "d", (task, a) -> idOf((int) a[0], false));
        t.add(Sys.GETSID, "d", (task, a) -> idOf((int) a[0], true));
        t.add(Sys.SETPGID, "dd", (task, a) -> setpgid((int) a[0], (int) a[1]));
        t.add(Sys.SETSID, "", (task, a) -> setsid());
        t.partial(Sys.PIDFD_OPEN, "dx", "PIDFD_THREAD EINVAL", (task, a) -> pidfdOpen((int) a[0], a[1]));
        t.partial(Sys.PIDFD_SEND_SIGNAL, "fdxx", "a siginfo argument EINVAL", (task, a) -> pidfdSendSignal(task, (int) a[0], (int) a[1], a[2], a[3]));
    }

    // ---- waiting

    private long wait4(Task task, int pid, long statusAddr, int options, long rusage) {
        if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE)) != 0) return -Errno.EINVAL;
        int idtype = pid < -1 || pid == 0 ? Processes.P_PGID : pid == -1 ? Processes.P_ALL : Processes.P_PID;
        int id = pid == 0 ? k.process.pgid : Math.abs(pid);
        Processes.Reaped r = k.process.table.reap(k.process, idtype, id, false);
        if (r == Processes.Reaped.NO_CHILD) return -Errno.ECHILD;
        if (r == Processes.Reaped.NOT_YET) return (options & WNOHANG) != 0 ? 0 : block(task);
        if (statusAddr != 0) k.memory.writeInt(statusAddr, r.status());
        if (rusage != 0) k.memory.write(rusage, new byte[144]); // goemu does not account children's CPU time
        return r.pid();
    }

    private long waitid(Task task, int idtype, int id, long infop, int options, long rusage) {
        if ((options & ~(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)) != 0
                || (options & (WUNTRACED | WEXITED | WCONTINUED)) == 0) return -Errno.EINVAL;
        if (idtype == P_PIDFD) {
            int host = k.fds.host(id);
            if (host < 0) return host;
            GuestProcess p = k.process.table.pidfds.process(host);
            if (p == null) return -Errno.EINVAL;
            if (!k.process.table.isChild(k.process, p)) return -Errno.ECHILD;
            idtype = Processes.P_PID;
            id = p.pid();
        }
        if (idtype != Processes.P_ALL && idtype != Processes.P_PID && idtype != Processes.P_PGID) return -Errno.EINVAL;
        if (idtype == Processes.P_PGID && id == 0) id = k.process.pgid;
        if ((options & WEXITED) == 0) { // only stops and continues: goemu has neither, so nothing ever reports
            if (k.process.table.reap(k.process, idtype, id, true) == Processes.Reaped.NO_CHILD) return -Errno.ECHILD;
            return (options & WNOHANG) != 0 ? writeSiginfo(infop, null) : block(task);
        }
        Processes.Reaped r = k.process.table.reap(k.process, idtype, id, (options & WNOWAIT) != 0);
        if (r == Processes.Reaped.NO_CHILD) return -Errno.ECHILD;
        if (r == Processes.Reaped.NOT_YET) return (options & WNOHANG) != 0 ? writeSiginfo(infop, null) : block(task);
        if (rusage != 0) k.memory.write(rusage, new byte[144]);
        return writeSiginfo(infop, r);
    }

    /** waitid's siginfo: si_signo, si_errno, si_code, si_pid, si_uid, si_status; all zero when nothing ended. */
    private long writeSiginfo(long infop, Processes.Reaped r) {
        if (infop == 0) return 0;
        k.memory.write(infop, new byte[28]);
        if (r == null) return 0;
        k.memory.writeInt(infop, SIGCHLD);
        k.memory.writeInt(infop + 8, WaitStatus.childCode(r.status()));
        k.memory.writeInt(infop + 16, r.pid());
        k.memory.writeInt(infop + 20, k.uid);
        k.memory.writeInt(infop + 24, WaitStatus.childStatus(r.status()));
        return 0;
    }

    private long block(Task task) {
        waiters.add(task);
        return k.block(task, Wait.until(task, Wait.NO_DEADLINE, 0));
    }

    /** A child changed state: re-runs every blocked wait (one that still finds nothing blocks again). */
    void retryWaits() {
        List<Task> blocked = new ArrayList<>(waiters);
        waiters.clear();
        for (Task t : blocked) {
            if (t.state == Task.State.BLOCKED && (t.blockedNr == Sys.WAIT4.nr || t.blockedNr == Sys.WAITID.nr)) {
                k.scheduler.retry(t);
            }
        }
    }

    // ---- pidfds

    private long pidfdOpen(int pid, long flags) {
        if ((flags & ~PIDFD_NONBLOCK) != 0 || pid <= 0) return -Errno.EINVAL;
        GuestProcess p = pid == k.pid ? k.process : k.process.table.find(pid);
        // A pid goemu does not know is the host's, as for kill: the host's own pidfd.
        if (p == null) return k.fds.install(Host.syscall(Sys.PIDFD_OPEN.nr, pid, flags, 0));
        return k.process.table.pidfds.open(p, k.fds, flags != 0);
    }

    private long pidfdSendSignal(Task task, int fd, int sig, long info, long flags) {
        if (flags != 0 || sig < 0 || sig > SignalSyscalls.NSIG) return -Errno.EINVAL;
        int host = k.fds.host(fd);
        if (host < 0) return host;
        if (info != 0) return k.unsupported(Sys.PIDFD_SEND_SIGNAL.nr, "siginfo");
        GuestProcess p = k.process.table.pidfds.process(host);
        if (p == null) return Host.syscall(Sys.PIDFD_SEND_SIGNAL.nr, host, sig, 0); // a host pidfd, or EBADF for another fd
        if (p == k.process) return k.signals.kill(task, k.pid, sig);
        return k.process.table.signal(p, sig, k.pid);
    }

    // ---- execve

    private long execve(Task task, int dirfd, long pathAddr, long argvAddr, long envpAddr, int flags) {
        if ((flags & ~(AT_EMPTY_PATH | 0x100)) != 0) return -Errno.EINVAL;
        String path = k.memory.readCString(pathAddr, 4097);
        if (path.length() > 4096) return -Errno.ENAMETOOLONG;
        List<String> argv = new ArrayList<>(), envp = new ArrayList<>();
        long err = readStrings(argvAddr, argv, 0);
        if (err == 0) err = readStrings(envpAddr, envp, sizeOf(argv));
        if (err != 0) return err;
        String resolved;
        if (path.isEmpty()) {
            if ((flags & AT_EMPTY_PATH) == 0 || dirfd == -100) return -Errno.ENOENT;
            resolved = k.fds.pathOf(dirfd);
        } else {
            resolved = k.cwd.resolve(dirfd, path);
            if (resolved != null) resolved = k.proc.programPath(resolved);
        }
        if (resolved == null) return -Errno.EBADF;
        long access = Cwd.hostPathCall(Sys.FACCESSAT.nr, -100, resolved, X_OK);
        if (access < 0) return access;
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(resolved))) return -Errno.EACCES;
        if (k.config.spawner() == null) return -Errno.ENOEXEC;
        return k.config.spawner().exec(k, task, resolved, argv, envp);
    }

    private static int sizeOf(List<String> strings) {
        int n = 0;
        for (String s : strings) n += s.length() + 9;
        return n;
    }

    /** A NULL-terminated array of strings (NULL itself: none), within Linux's limits (E2BIG beyond). */
    private long readStrings(long arrayAddr, List<String> out, int used) {
        if (arrayAddr == 0) return 0;
        for (int i = 0; ; i++) {
            if (i > MAX_ARGS) return -Errno.E2BIG;
            long p = k.memory.readLong(arrayAddr + 8L * i);
            if (p == 0) return 0;
            String s = k.memory.readCString(p, MAX_ARG_STRLEN + 1);
            used += s.length() + 9;
            if (s.length() > MAX_ARG_STRLEN || used > MAX_ARG_TOTAL) return -Errno.E2BIG;
            out.add(s);
        }
    }

    // ---- groups and sessions

    private long idOf(int pid, boolean session) {
        GuestProcess p = pid == 0 ? k.process : k.process.table.find(pid);
        if (p == null) return Host.syscall(session ? 124 : 121, pid, 0, 0);
        return session ? p.sid : p.pgid;
    }

    private long setpgid(int pid, int pgid) {
        if (pgid < 0) return -Errno.EINVAL;
        GuestProcess target = pid == 0 || pid == k.pid ? k.process : k.process.table.find(pid);
        if (target == null || (target != k.process && !k.process.table.isChild(k.process, target))) return -Errno.ESRCH;
        if (target.sid == target.pid) return -Errno.EPERM; // a session leader cannot move
        int group = pgid == 0 ? target.pid : pgid;
        if (target.hostPid > 0) return Host.syscall(109, target.hostPid, group, 0);
        target.pgid = group;
        return 0;
    }

    private long setsid() {
        if (k.process.pgid == k.pid) return -Errno.EPERM;
        k.process.sid = k.process.pgid = k.pid;
        k.process.ctty = null; // a new session has no terminal
        return k.pid;
    }
}
