package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static org.junit.jupiter.api.Assertions.*;

/** Blocking reads and epoll waits park only the calling task, and resume when the host fd is ready. */
class FdWaitTest {
    private static final int READ = 0, WRITE = 1, PIPE2 = 293, CLOSE = 3, EVENTFD2 = 290, EPOLL_CREATE1 = 291,
            EPOLL_CTL = 233, EPOLL_PWAIT = 281;
    private final TestKernel tk = new TestKernel();
    private final Scheduler sched = tk.kernel.scheduler();
    private final Task reader = tk.kernel.createMainTask();
    private final Task writer = tk.kernel.newTask();

    @Test
    void blockingPipeReadWaitsForTheWriter() {
        assertEquals(0, tk.call(reader, PIPE2, SCRATCH, 0));
        int rd = tk.memory.readInt(SCRATCH), wr = tk.memory.readInt(SCRATCH + 4);
        assertTrue(rd >= 3 && wr == rd + 1, "lowest free guest fds: " + rd + "," + wr);
        assertEquals(Kernel.BLOCKED, tk.call(reader, READ, rd, SCRATCH + 100, 16));
        tk.memory.write(SCRATCH + 200, "ping".getBytes());
        assertEquals(4, tk.call(writer, WRITE, wr, SCRATCH + 200, 4));
        sched.next(null);
        assertEquals(4, TestKernel.result(reader), "the read was re-run once the pipe was readable");
        assertEquals("ping", new String(tk.memory.read(SCRATCH + 100, 4)));
        assertEquals(0, tk.call(reader, CLOSE, rd));
        assertEquals(-Errno.EBADF, tk.call(reader, CLOSE, rd));
    }

    /**
     * While other threads run, fds are polled after the guest used one and otherwise at most every
     * FD_POLL_INTERVAL: readiness from outside the guest (here the host writes the pipe) is seen within that.
     */
    @Test
    void readinessFromOutsideIsSeenWithinThePollInterval() throws InterruptedException {
        assertEquals(0, tk.call(reader, PIPE2, SCRATCH, 0));
        int rd = tk.memory.readInt(SCRATCH), wr = tk.memory.readInt(SCRATCH + 4);
        int hostWr = tk.kernel.fds.host(wr);
        assertEquals(Kernel.BLOCKED, tk.call(reader, READ, rd, SCRATCH + 100, 16));
        assertSame(writer, sched.next(null), "the reader waits");
        tk.memory.write(SCRATCH + 200, "pong".getBytes());
        assertEquals(4, Host.syscall(Sys.WRITE.nr, hostWr, tk.memory.segment(SCRATCH + 200, 4, AddressSpace.READ).address(), 4));
        Thread.sleep(Scheduler.FD_POLL_INTERVAL / 1_000_000 + 1);
        assertSame(reader, sched.next(writer), "woken, the reader runs before the writer, whose slice ended");
        assertEquals(4, TestKernel.result(reader));
        assertEquals("pong", new String(tk.memory.read(SCRATCH + 100, 4)));
    }

    @Test
    void epollWaitSleepsUntilTimeoutOrEvent() {
        int ep = (int) tk.call(reader, EPOLL_CREATE1, 0x80000);
        int efd = (int) tk.call(reader, EVENTFD2, 0, 0x80800);
        tk.memory.writeInt(SCRATCH, 1);              // EPOLLIN
        tk.memory.writeLong(SCRATCH + 4, 0xfeedL);   // user data, returned as is
        assertEquals(0, tk.call(reader, EPOLL_CTL, ep, 1, efd, SCRATCH));

        long start = System.nanoTime();
        assertEquals(Kernel.BLOCKED, tk.call(reader, EPOLL_PWAIT, ep, SCRATCH + 64, 8, 40, 0, 8));
        sched.exit(writer);
        assertSame(reader, sched.next(null));
        assertEquals(0, TestKernel.result(reader), "timed out with no events");
        assertTrue(System.nanoTime() - start >= 40_000_000);

        assertEquals(Kernel.BLOCKED, tk.call(reader, EPOLL_PWAIT, ep, SCRATCH + 64, 8, -1, 0, 8));
        tk.memory.writeLong(SCRATCH + 32, 1);
        Task poker = tk.kernel.newTask();
        assertEquals(8, tk.call(poker, WRITE, efd, SCRATCH + 32, 8));
        sched.exit(poker);
        assertSame(reader, sched.next(null));
        assertEquals(1, TestKernel.result(reader));
        assertEquals(0xfeedL, tk.memory.readLong(SCRATCH + 64 + 4));
    }
}
