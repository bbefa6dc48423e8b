package dev.goemu.syscalls;

/**
 * Makes an fd operation wait like Linux without stalling other guest threads: if the fd could block and is not
 * ready, the task blocks on the host fd's readiness and the scheduler re-runs the call once it is.
 */
final class Blocking {
    static final short POLLIN = 1, POLLOUT = 4;

    private final Kernel k;

    Blocking(Kernel k) {
        this.k = k;
    }

    /** Wraps {@code op}, whose first argument is the guest fd. */
    SyscallTable.Handler io(short events, SyscallTable.Handler op) {
        return (task, a) -> {
            long w = waitFor(task, (int) a[0], events);
            return w != 0 ? w : op.call(task, a);
        };
    }

    /**
     * Wraps {@code op}, whose first argument is the guest fd, unless the call's flags (argument {@code flagsArg})
     * ask for {@code nonblockingFlag} (MSG_DONTWAIT): then it runs at once, and the host answers EAGAIN itself.
     */
    SyscallTable.Handler io(short events, int flagsArg, long nonblockingFlag, SyscallTable.Handler op) {
        SyscallTable.Handler blocking = io(events, op);
        return (task, a) -> (a[flagsArg] & nonblockingFlag) != 0 ? op.call(task, a) : blocking.call(task, a);
    }

    /** Wraps {@code op}, which moves data from the guest fd in argument {@code in} to the one in {@code out} (splice). */
    SyscallTable.Handler copy(int in, int out, SyscallTable.Handler op) {
        return (task, a) -> {
            long w = waitFor(task, (int) a[in], POLLIN);
            if (w == 0) w = waitFor(task, (int) a[out], POLLOUT);
            return w != 0 ? w : op.call(task, a);
        };
    }

    /** 0 if an operation on {@code fd} can run now; else -EBADF, or BLOCKED after blocking the task on its readiness. */
    private long waitFor(Task task, int fd, short events) {
        int h = k.fds.host(fd);
        if (h < 0) return -Errno.EBADF; // also for AT_FDCWD, which names no fd here
        if (k.fds.mayBlock(fd) && !ready(h, events)) return k.block(task, Wait.fd(task, h, events, Wait.NO_DEADLINE, 0));
        return 0;
    }

    static boolean ready(int hostFd, short events) {
        return Host.poll(new int[] {hostFd}, new short[] {events}, new short[1], 0) > 0;
    }
}
