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
            int fd = (int) a[0];
            int h = k.fds.host(fd);
            if (h < 0) return h;
            if (k.fds.mayBlock(fd) && !ready(h, events)) return k.block(task, Wait.fd(task, h, events, Wait.NO_DEADLINE, 0));
            return op.call(task, a);
        };
    }

    private static boolean ready(int hostFd, short events) {
        return Host.poll(new int[] {hostFd}, new short[] {events}, new short[1], 0) > 0;
    }
}
