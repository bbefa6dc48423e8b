package dev.goemu.syscalls;

/** clone, exit, futex, scheduling and thread identity: threads are the kernel's tasks, run by the scheduler. */
final class ThreadSyscalls {
    static final int CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_SIGHAND = 0x800, CLONE_PIDFD = 0x1000, CLONE_VFORK = 0x4000,
            CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000, CLONE_NEWNS = 0x20000, CLONE_SETTLS = 0x80000,
            CLONE_DETACHED = 0x400000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000,
            CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000;
    private static final int SIGCHLD = 17;
    private static final int FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
    private static final int FUTEX_PRIVATE = 128, FUTEX_CLOCK_REALTIME = 256;
    private static final int ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;

    private final Kernel k;

    ThreadSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.partial(Sys.CLONE, "xxxxx", "threads, vfork and fork children; CLONE_FILES, CLONE_FS, CLONE_VM without CLONE_VFORK, namespaces EINVAL", this::clone);
        t.add(Sys.EXIT, "d", (task, a) -> exitThread(task, (int) a[0]));
        t.add(Sys.EXIT_GROUP, "d", (task, a) -> {
            k.exitProcess((int) a[0] & 0xff);
            return 0;
        });
        t.add(Sys.FORK, "", (task, a) -> k.fork(task, SIGCHLD, 0, 0, 0, 0));
        t.add(Sys.VFORK, "", (task, a) -> k.vfork(task, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0));
        t.add(Sys.GETTID, "", (task, a) -> task.tid);
        t.add(Sys.SET_TID_ADDRESS, "x", (task, a) -> {
            task.clearChildTid = a[0];
            return task.tid;
        });
        t.partial(Sys.SET_ROBUST_LIST, "xd", "accepted, not kept: robust futex lists matter only to pthreads", (task, a) -> 0);
        t.refuse(Sys.RSEQ, "xdxx", Errno.ENOSYS, "optional for libc (as on a kernel without CONFIG_RSEQ), unused by Go");
        t.refuse(Sys.CLONE3, "xd", Errno.ENOSYS, "callers fall back to clone, as on kernels before 5.3");
        t.partial(Sys.FUTEX, "xdxxxx", "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET; other operations ENOSYS", this::futex);
        t.add(Sys.SCHED_YIELD, "", (task, a) -> {
            k.scheduler.yield(task);
            k.machine.stopAfterSyscall();
            return 0;
        });
        t.add(Sys.SCHED_GETAFFINITY, "ddx", (task, a) -> schedGetaffinity(a[1] & 0xffffffffL, a[2])); // len is an unsigned int
        t.partial(Sys.SCHED_SETAFFINITY, "ddx", "accepted and ignored: the CPU set is --cpus", (task, a) -> 0);
        t.partial(Sys.GETCPU, "xxx", "always CPU 0, node 0", (task, a) -> {
            if (a[0] != 0) k.memory.writeInt(a[0], 0);
            if (a[1] != 0) k.memory.writeInt(a[1], 0);
            return 0;
        });
        t.add(Sys.ARCH_PRCTL, "xx", this::archPrctl);
    }

    /** The flag combinations Linux's copy_process refuses with EINVAL (legacy clone ignores the high 32 bits). */
    static boolean validCloneFlags(long flags) {
        int f = (int) flags;
        return (f & (CLONE_NEWNS | CLONE_FS)) != (CLONE_NEWNS | CLONE_FS)
                && (f & (CLONE_NEWUSER | CLONE_FS)) != (CLONE_NEWUSER | CLONE_FS)
                && ((f & CLONE_THREAD) == 0 || (f & CLONE_SIGHAND) != 0)
                && ((f & CLONE_SIGHAND) == 0 || (f & CLONE_VM) != 0)
                && ((f & (CLONE_NEWUSER | CLONE_NEWPID)) == 0 || (f & (CLONE_THREAD | CLONE_PARENT)) == 0)
                && ((f & CLONE_PIDFD) == 0 || (f & (CLONE_DETACHED | CLONE_PARENT_SETTID)) == 0);
    }

    private long clone(Task parent, long[] a) {
        long flags = a[0], stack = a[1], ptid = a[2], ctid = a[3], tls = a[4];
        if (!validCloneFlags(flags)) return -Errno.EINVAL;
        if ((flags & CLONE_THREAD) == 0) {
            long unsupported = flags & 0xffffffffL & ~(0xff | CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_SETTLS
                    | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED);
            if (unsupported != 0) return k.unsupported(Sys.CLONE.nr, "process flags 0x" + Long.toHexString(unsupported));
            // vfork, as os/exec and posix_spawn start children, runs on this CPU; anything else is a fork, whose
            // caller goes on at once (without CLONE_VM, CLONE_VFORK's wait only orders the parent after the child)
            if ((flags & (CLONE_VM | CLONE_VFORK)) == (CLONE_VM | CLONE_VFORK)) return k.vfork(parent, flags, stack, ptid);
            if ((flags & CLONE_VM) != 0) return k.unsupported(Sys.CLONE.nr, "CLONE_VM without CLONE_VFORK or CLONE_THREAD");
            return k.fork(parent, flags, stack, ptid, ctid, tls);
        }
        if ((flags & (CLONE_VM | CLONE_PIDFD)) != CLONE_VM) return -Errno.EINVAL; // a thread's pidfd is Linux 6.9's
        Task child = k.newTask();
        child.signalMask = parent.signalMask;
        child.startAsClone(new Task.CloneStart(stack, tls, (flags & CLONE_SETTLS) != 0));
        k.cloned(child);
        if ((flags & CLONE_PARENT_SETTID) != 0) k.memory.writeInt(ptid, child.tid);
        if ((flags & CLONE_CHILD_SETTID) != 0) k.memory.writeInt(ctid, child.tid);
        if ((flags & CLONE_CHILD_CLEARTID) != 0) child.clearChildTid = ctid;
        k.machine.stopAfterSyscall(); // the CPU layer builds the child's registers from the parent's
        return child.tid;
    }

    private long exitThread(Task task, int status) {
        if (task.clearChildTid != 0) {
            try {
                k.memory.writeInt(task.clearChildTid, 0);
                k.scheduler.futexWake(task.clearChildTid, 1, -1);
            } catch (GuestFault ignored) {
                // Linux ignores a bad clear_child_tid address too
            }
        }
        k.scheduler.exit(task);
        if (k.scheduler.tasks().isEmpty()) k.exitProcess(status & 0xff);
        k.machine.stopAfterSyscall();
        return 0;
    }

    private long futex(Task task, long[] a) {
        long addr = a[0];
        int op = (int) a[1], cmd = op & ~(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);
        int val = (int) a[2];
        if ((addr & 3) != 0) return -Errno.EINVAL;
        switch (cmd) {
            case FUTEX_WAIT, FUTEX_WAIT_BITSET -> {
                int bitset = cmd == FUTEX_WAIT ? -1 : (int) a[5];
                if (bitset == 0) return -Errno.EINVAL;
                if (k.memory.readInt(addr) != val) return -Errno.EAGAIN;
                long deadline = Wait.NO_DEADLINE;
                if (a[3] != 0) {
                    long ns = TimeSyscalls.readTimespec(k.memory, a[3]);
                    if (ns < 0) return -Errno.EINVAL;
                    if (cmd == FUTEX_WAIT) deadline = k.clock.after(ns);
                    else deadline = (op & FUTEX_CLOCK_REALTIME) != 0 ? k.clock.realtimeToDeadline(ns) : ns;
                }
                return k.block(task, Wait.futex(task, addr, bitset, deadline));
            }
            case FUTEX_WAKE, FUTEX_WAKE_BITSET -> {
                int bitset = cmd == FUTEX_WAKE ? -1 : (int) a[5];
                if (bitset == 0) return -Errno.EINVAL;
                return k.scheduler.futexWake(addr, val, bitset);
            }
            default -> {
                return -Errno.ENOSYS;
            }
        }
    }

    /** The CPU set is what --cpus says, so runtime.NumCPU matches the host (or the user's choice). */
    private long schedGetaffinity(long len, long maskAddr) {
        int bytes = 8 * ((k.config.cpus() + 63) / 64);
        if (len < bytes || (len & 7) != 0) return -Errno.EINVAL;
        byte[] mask = new byte[bytes];
        for (int cpu = 0; cpu < k.config.cpus(); cpu++) mask[cpu / 8] |= (byte) (1 << (cpu % 8));
        k.memory.write(maskAddr, mask);
        return bytes;
    }

    private long archPrctl(Task task, long[] a) {
        int code = (int) a[0];
        // A base beyond user space is EPERM, as on Linux (a non-canonical one would fault in the CPU).
        if ((code == ARCH_SET_FS || code == ARCH_SET_GS) && Long.compareUnsigned(a[1], AddressSpace.TASK_SIZE) >= 0) return -Errno.EPERM;
        switch (code) {
            case ARCH_SET_FS -> k.machine.setFsBase(a[1]);
            case ARCH_SET_GS -> k.machine.setGsBase(a[1]);
            case ARCH_GET_FS -> k.memory.writeLong(a[1], k.machine.fsBase());
            case ARCH_GET_GS -> k.memory.writeLong(a[1], k.machine.gsBase());
            default -> {
                return -Errno.EINVAL;
            }
        }
        return 0;
    }
}
