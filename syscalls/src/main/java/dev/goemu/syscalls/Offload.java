package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * Host calls that can block inside the host kernel with nothing to poll for first (opening a FIFO waits until
 * its other end is opened): the call runs on a helper thread while the calling task waits on an eventfd that
 * the helper signals, and the task's syscall is then re-run and takes the result. The same call made again
 * after a signal interrupted the wait (a restart) keeps waiting for the same result.
 */
final class Offload {
    private static final int EFD_CLOEXEC_NONBLOCK = 0x80000 | 0x800;

    /** A call on its way; its eventfd is closed by whichever of the helper and the kernel is done with it last. */
    static final class Pending {
        private final int nr;
        private final long[] args;
        private final int eventFd;
        private long result;
        private boolean done, abandoned;

        private Pending(int nr, long[] args, int eventFd) {
            this.nr = nr;
            this.args = args;
            this.eventFd = eventFd;
        }

        private synchronized void complete(long r) {
            if (abandoned) {
                closeFd(r);
                closeFd(eventFd);
                return;
            }
            result = r;
            done = true;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment one = arena.allocate(8);
                one.set(ValueLayout.JAVA_LONG, 0, 1);
                Host.syscall(Sys.WRITE.nr, eventFd, one.address(), 8);
            }
        }

        /** The result once the call returned (the eventfd is then closed), else null. */
        private synchronized Long take() {
            if (!done) return null;
            closeFd(eventFd);
            return result;
        }

        /** The task moved on to another call: the fd the call returns, if any, is closed. */
        private synchronized void abandon() {
            if (done) {
                closeFd(result);
                closeFd(eventFd);
            } else {
                abandoned = true;
            }
        }

        private static void closeFd(long fd) {
            if (fd >= 0) Host.syscall(Sys.CLOSE.nr, fd, 0, 0);
        }
    }

    private final Kernel k;

    Offload(Kernel k) {
        this.k = k;
    }

    /**
     * Syscall {@code nr} with guest arguments {@code args}, done by {@code hostCall} (which must not touch guest
     * memory: it runs on another thread) and returning a new host fd or -errno: its result, or BLOCKED.
     */
    long openFd(Task task, int nr, long[] args, LongSupplier hostCall) {
        Pending p = task.offloaded;
        if (p != null) {
            if (p.nr == nr && Arrays.equals(p.args, args)) {
                Long r = p.take();
                if (r == null) return k.block(task, Wait.fd(task, p.eventFd, Blocking.POLLIN, Wait.NO_DEADLINE, 0));
                task.offloaded = null;
                return r;
            }
            p.abandon();
            task.offloaded = null;
        }
        int efd = (int) Host.syscall(Sys.EVENTFD2.nr, 0, EFD_CLOEXEC_NONBLOCK, 0);
        if (efd < 0) return efd;
        Pending started = new Pending(nr, args.clone(), efd);
        task.offloaded = started;
        Thread.ofPlatform().daemon().name("goemu-offload-" + task.tid).start(() -> started.complete(hostCall.getAsLong()));
        return k.block(task, Wait.fd(task, efd, Blocking.POLLIN, Wait.NO_DEADLINE, 0));
    }
}
