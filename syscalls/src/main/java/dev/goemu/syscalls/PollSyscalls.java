package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * epoll, eventfd and pipes for Go's netpoller: host objects behind guest fds. A waiting epoll_pwait polls the
 * host epoll fd for readiness in the scheduler (an epoll fd is itself pollable), so a Go timer wait of six
 * seconds sleeps six seconds while other guest threads run.
 */
final class PollSyscalls {
    private static final int EPOLL_EVENT_SIZE = 12; // packed struct epoll_event on x86-64
    private static final int EP_MAX_EVENTS = Integer.MAX_VALUE / EPOLL_EVENT_SIZE;

    private final Kernel k;

    PollSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.EPOLL_CREATE1, "x", k.passthrough.fd());
        t.add(Sys.EPOLL_CREATE, "d", k.passthrough.fd());
        t.add(Sys.EPOLL_CTL, "fdfp", k.passthrough.input(EPOLL_EVENT_SIZE));
        t.add(Sys.EPOLL_PWAIT, "fxddxd", (task, a) -> epollWait(task, a));
        t.add(Sys.EPOLL_WAIT, "fxdd", (task, a) -> epollWait(task, a));
        t.add(Sys.EVENTFD2, "dx", k.passthrough.fd());
        t.add(Sys.EVENTFD, "d", k.passthrough.fd());
        t.add(Sys.PIPE2, "xx", (task, a) -> pipe(a[0], a[1]));
        t.add(Sys.PIPE, "x", (task, a) -> pipe(a[0], 0));
    }

    /** Polls without waiting; if nothing is ready and the timeout allows, the task waits for the epoll fd. */
    private long epollWait(Task task, long[] a) {
        int ep = k.fds.host((int) a[0]);
        if (ep < 0) return ep;
        int max = (int) a[2], timeoutMs = (int) a[3];
        if (max <= 0 || max > EP_MAX_EVENTS) return -Errno.EINVAL;
        long len = (long) max * EPOLL_EVENT_SIZE;
        if (!AddressSpace.accessOk(a[1], len)) return -Errno.EFAULT;
        long r;
        try (Arena arena = Arena.ofConfined()) {
            // The host fills in at most as many events as the guest's writable memory holds. Like Linux, a buffer
            // that cannot take any is an error (EFAULT) only once there is an event to store.
            AddressSpace.HostView v = null;
            try {
                v = k.memory.view(a[1], len, AddressSpace.WRITE, arena);
            } catch (GuestFault f) {
                if (Host.syscall(Sys.EPOLL_PWAIT.nr, ep, arena.allocate(EPOLL_EVENT_SIZE).address(), 1, 0, 0, 8) > 0) throw f;
            }
            if (v != null && v.len() < EPOLL_EVENT_SIZE) return -Errno.EFAULT;
            r = v == null ? 0 : Host.syscall(Sys.EPOLL_PWAIT.nr, ep, v.address(), v.len() / EPOLL_EVENT_SIZE, 0, 0, 8);
            if (v != null) v.copyBack();
        }
        if (r != 0 || timeoutMs == 0) return r;
        long deadline = timeoutMs < 0 ? Wait.NO_DEADLINE : Wait.after(timeoutMs * 1_000_000L);
        return k.block(task, Wait.fd(task, ep, Blocking.POLLIN, deadline, 0));
    }

    private long pipe(long fdsAddr, long flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pair = arena.allocate(8, 4);
            long r = Host.syscall(Sys.PIPE2.nr, pair.address(), flags, 0);
            if (r < 0) return r;
            return k.fds.installPair(pair, k.memory, fdsAddr);
        }
    }
}
