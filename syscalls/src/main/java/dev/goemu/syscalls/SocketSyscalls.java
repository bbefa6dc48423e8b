package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Sockets: host sockets behind guest fds; blocking ones wait for readiness like other fds (a call with
 * MSG_DONTWAIT does not wait). sendmsg/recvmsg translate their msghdr in {@link Messages}.
 */
final class SocketSyscalls {

    private final Kernel k;
    private final Messages messages;

    SocketSyscalls(Kernel k) {
        this.k = k;
        this.messages = new Messages(k);
    }

    void register(SyscallTable t) {
        t.add(Sys.SOCKET, "ddd", k.passthrough.fd());
        t.add(Sys.CONNECT, "fbd", k.passthrough.handler());
        t.add(Sys.BIND, "fbd", k.passthrough.handler());
        t.add(Sys.LISTEN, "fd", k.passthrough.handler());
        t.add(Sys.SHUTDOWN, "fd", k.passthrough.handler());
        t.add(Sys.SETSOCKOPT, "fddbd", k.passthrough.handler());
        t.add(Sys.GETSOCKOPT, "fddxx", (task, a) -> withLength(Sys.GETSOCKOPT, a, 3, -1));
        t.add(Sys.GETSOCKNAME, "fxx", (task, a) -> withLength(Sys.GETSOCKNAME, a, 1, -1));
        t.add(Sys.GETPEERNAME, "fxx", (task, a) -> withLength(Sys.GETPEERNAME, a, 1, -1));
        t.add(Sys.ACCEPT4, "fxxx", k.blocking.io(Blocking.POLLIN, (task, a) -> k.fds.install(withLength(Sys.ACCEPT4, a, 1, -1))));
        t.add(Sys.ACCEPT, "fxx", k.blocking.io(Blocking.POLLIN, (task, a) -> k.fds.install(withLength(Sys.ACCEPT, a, 1, -1))));
        t.add(Sys.SENDTO, "fbdxbd", k.blocking.io(Blocking.POLLOUT, 3, Messages.MSG_DONTWAIT, k.passthrough.handler()));
        t.add(Sys.RECVFROM, "fxdxxx", k.blocking.io(Blocking.POLLIN, 3, Messages.MSG_DONTWAIT, (task, a) -> withLength(Sys.RECVFROM, a, 4, 1)));
        t.add(Sys.SENDMSG, "fxx", k.blocking.io(Blocking.POLLOUT, 2, Messages.MSG_DONTWAIT, (task, a) -> messages.send(hostFd(a), a[1], a[2])));
        t.add(Sys.RECVMSG, "fxx", k.blocking.io(Blocking.POLLIN, 2, Messages.MSG_DONTWAIT, (task, a) -> messages.receive(hostFd(a), a[1], a[2])));
        t.add(Sys.SENDMMSG, "fxdx", k.blocking.io(Blocking.POLLOUT, 3, Messages.MSG_DONTWAIT, (task, a) -> messages.batch((int) a[0], hostFd(a), a[1], a[2], a[3], true)));
        t.add(Sys.RECVMMSG, "fxdxx", k.blocking.io(Blocking.POLLIN, 3, Messages.MSG_DONTWAIT, this::recvmmsg));
        t.add(Sys.SOCKETPAIR, "dddx", (task, a) -> socketpair(a));
    }

    /** The host fd of argument 0, or -1 (not an fd: the host answers EBADF, also for AT_FDCWD's -100). */
    private int hostFd(long[] a) {
        int h = k.fds.host((int) a[0]);
        return h < 0 ? -1 : h;
    }

    /**
     * recvmmsg: Linux checks its timeout only after each message, never while waiting for the first; goemu waits
     * only for the first, so the timeout is validated and otherwise has nothing to cut short.
     */
    private long recvmmsg(Task task, long[] a) {
        if (a[4] != 0 && TimeSyscalls.readTimespec(k.memory, a[4]) < 0) return -Errno.EINVAL;
        return messages.batch((int) a[0], hostFd(a), a[1], a[2], a[3], false);
    }

    /**
     * Calls whose argument {@code i} is a buffer and {@code i+1} points at its length (a socklen_t, in and out);
     * {@code data}, if not -1, is the index of a data buffer whose length is the next argument (recvfrom). The host
     * gets its own socklen_t, no larger than the guest memory behind the buffer, and the guest gets back what the
     * host stored there (the full length, as Linux reports it).
     */
    private long withLength(Sys call, long[] a, int i, int data) {
        int fd = k.fds.host((int) a[0]);
        if (fd < 0) return fd;
        try (Arena arena = Arena.ofConfined()) {
            long[] h = a.clone();
            h[0] = fd;
            List<AddressSpace.HostView> views = new ArrayList<>();
            MemorySegment hostLen = null;
            if (a[i + 1] != 0) {
                int len = k.memory.readInt(a[i + 1]);
                if (len < 0) return -Errno.EINVAL;
                AddressSpace.HostView v = k.memory.view(a[i], len, AddressSpace.WRITE, arena);
                views.add(v);
                hostLen = arena.allocate(4, 4);
                hostLen.set(JAVA_INT, 0, (int) v.len());
                h[i] = v.address();
                h[i + 1] = hostLen.address();
            }
            if (data >= 0) {
                if (!AddressSpace.accessOk(a[data], a[data + 1])) return -Errno.EFAULT;
                AddressSpace.HostView v = k.memory.view(a[data], Math.min(a[data + 1], Passthrough.MAX_RW_COUNT),
                        AddressSpace.WRITE, arena);
                views.add(v);
                h[data] = v.address();
                h[data + 1] = v.len();
            }
            long r = Host.syscall(call.nr, h[0], h[1], h[2], h[3], h[4], h[5]);
            for (AddressSpace.HostView v : views) v.copyBack();
            if (hostLen != null && r >= 0) k.memory.writeInt(a[i + 1], hostLen.get(JAVA_INT, 0));
            return r;
        }
    }

    private long socketpair(long[] a) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pair = arena.allocate(8, 4);
            long r = Host.syscall(Sys.SOCKETPAIR.nr, a[0], a[1], a[2], pair.address(), 0, 0);
            return r < 0 ? r : k.fds.installPair(pair, k.memory, a[3]);
        }
    }
}
