package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/** sendmsg/recvmsg translation (msghdr, iovecs, control messages), poll waits and FIFO opens. */
class MessagesTest {
    private static final int READ = 0, WRITE = 1, POLL = 7, SENDMSG = 46, RECVMSG = 47, SOCKETPAIR = 53,
            OPENAT = 257, MKNODAT = 259, PIPE2 = 293;
    private static final int AF_UNIX = 1, SOCK_STREAM = 1;
    private final TestKernel tk = new TestKernel();
    private final Task task = tk.kernel.createMainTask();
    private final Task other = tk.kernel.newTask();

    /** One control message in a fresh segment: cmsg_len, level, type, then the ints. */
    private static MemorySegment cmsg(Arena arena, int level, int type, int... data) {
        MemorySegment ctl = arena.allocate(Messages.CMSG_HDR + ((4L * data.length + 7) & -8), 8);
        ctl.set(JAVA_LONG, 0, Messages.CMSG_HDR + 4L * data.length);
        ctl.set(JAVA_INT, 8, level);
        ctl.set(JAVA_INT, 12, type);
        for (int i = 0; i < data.length; i++) ctl.set(JAVA_INT, 16 + 4L * i, data[i]);
        return ctl;
    }

    @Test
    void controlMessagesTranslateFdsAndPids() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rights = cmsg(arena, Messages.SOL_SOCKET, Messages.SCM_RIGHTS, 3, 4);
            assertEquals(0, Messages.controlToHost(rights, fd -> fd + 100, pid -> pid));
            assertEquals(103, rights.get(JAVA_INT, 16));
            assertEquals(104, rights.get(JAVA_INT, 20));
            assertEquals(-Errno.EBADF, Messages.controlToHost(cmsg(arena, 1, 1, 7), fd -> -Errno.EBADF, pid -> pid));

            MemorySegment cred = cmsg(arena, Messages.SOL_SOCKET, Messages.SCM_CREDENTIALS, 42, 1000, 1000);
            assertEquals(0, Messages.controlToHost(cred, fd -> fd, pid -> pid == 42 ? 4242 : pid));
            assertEquals(4242, cred.get(JAVA_INT, 16));
            assertEquals(1000, cred.get(JAVA_INT, 20), "uid untouched");

            MemorySegment other = cmsg(arena, 0 /* SOL_IP */, 8 /* IP_PKTINFO */, 3, 4, 5);
            assertEquals(0, Messages.controlToHost(other, fd -> fd + 100, pid -> pid));
            assertEquals(3, other.get(JAVA_INT, 16), "only SOL_SOCKET messages carry fds");

            MemorySegment received = cmsg(arena, Messages.SOL_SOCKET, Messages.SCM_RIGHTS, 50, 51);
            Messages.controlToGuest(received, received.byteSize(), host -> host - 40, pid -> pid);
            assertEquals(10, received.get(JAVA_INT, 16));
            assertEquals(11, received.get(JAVA_INT, 20));
        }
    }

    @Test
    void malformedControlHeadersAreInvalid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tooLong = cmsg(arena, 1, 1, 3);
            tooLong.set(JAVA_LONG, 0, 1000);
            assertEquals(-Errno.EINVAL, Messages.controlToHost(tooLong, fd -> fd, pid -> pid));
            MemorySegment tooShort = cmsg(arena, 1, 1, 3);
            tooShort.set(JAVA_LONG, 0, 8);
            assertEquals(-Errno.EINVAL, Messages.controlToHost(tooShort, fd -> fd, pid -> pid));
        }
    }

    /** Guest msghdr at SCRATCH: one iovec at +0x100, control at +0x200, data at +0x300. */
    private void msghdr(long iovLen, long control, long controlLen, long data, long dataLen) {
        tk.memory.write(SCRATCH, new byte[56]);
        tk.memory.writeLong(SCRATCH + 16, SCRATCH + 0x100);
        tk.memory.writeLong(SCRATCH + 24, iovLen);
        tk.memory.writeLong(SCRATCH + 32, control);
        tk.memory.writeLong(SCRATCH + 40, controlLen);
        tk.memory.writeLong(SCRATCH + 0x100, data);
        tk.memory.writeLong(SCRATCH + 0x108, dataLen);
    }

    @Test
    void anFdSentOverASocketpairArrivesAsANewGuestFd() {
        assertEquals(0, tk.call(task, SOCKETPAIR, AF_UNIX, SOCK_STREAM, 0, SCRATCH + 0x800));
        int s0 = tk.memory.readInt(SCRATCH + 0x800), s1 = tk.memory.readInt(SCRATCH + 0x804);
        assertEquals(0, tk.call(task, PIPE2, SCRATCH + 0x810, 0));
        int rd = tk.memory.readInt(SCRATCH + 0x810), wr = tk.memory.readInt(SCRATCH + 0x814);

        tk.memory.write(SCRATCH + 0x300, "m".getBytes());
        tk.memory.writeLong(SCRATCH + 0x200, 20);
        tk.memory.writeInt(SCRATCH + 0x208, Messages.SOL_SOCKET);
        tk.memory.writeInt(SCRATCH + 0x20c, Messages.SCM_RIGHTS);
        tk.memory.writeInt(SCRATCH + 0x210, wr);
        msghdr(1, SCRATCH + 0x200, 24, SCRATCH + 0x300, 1);
        assertEquals(1, tk.call(task, SENDMSG, s0, SCRATCH, 0));
        assertEquals(wr, tk.memory.readInt(SCRATCH + 0x210), "the guest's control buffer is not changed by sending");

        tk.memory.write(SCRATCH + 0x200, new byte[24]);
        msghdr(1, SCRATCH + 0x200, 24, SCRATCH + 0x300, 16);
        assertEquals(1, tk.call(task, RECVMSG, s1, SCRATCH, 0));
        assertEquals(24, tk.memory.readLong(SCRATCH + 40), "msg_controllen: CMSG_SPACE of one int, as Linux counts it");
        int received = tk.memory.readInt(SCRATCH + 0x210);
        assertEquals(wr + 1, received, "the lowest free guest fd, not the host's number");
        tk.memory.write(SCRATCH + 0x400, "via".getBytes());
        assertEquals(3, tk.call(task, WRITE, received, SCRATCH + 0x400, 3));
        assertEquals(3, tk.call(task, READ, rd, SCRATCH + 0x500, 16));
        assertEquals("via", new String(tk.memory.read(SCRATCH + 0x500, 3)));

        msghdr(1025, 0, 0, SCRATCH + 0x300, 1);
        assertEquals(-90 /* EMSGSIZE */, tk.call(task, SENDMSG, s0, SCRATCH, 0));
        msghdr(1, 0, 0, SCRATCH + 0x300, -1);
        assertEquals(-Errno.EINVAL, tk.call(task, SENDMSG, s0, SCRATCH, 0));
        msghdr(1, 0, 0, SCRATCH + 0x300, 1);
        tk.memory.writeLong(SCRATCH, SCRATCH + 0x600);
        tk.memory.writeInt(SCRATCH + 8, -1);
        assertEquals(-Errno.EINVAL, tk.call(task, SENDMSG, s0, SCRATCH, 0), "negative msg_namelen");
        assertEquals(-Errno.EBADF, tk.call(task, SENDMSG, 999, SCRATCH, 0));
    }

    @Test
    void pollWaitsInTheSchedulerAndClosesItsEpollSet() {
        assertEquals(0, tk.call(task, PIPE2, SCRATCH + 0x800, 0));
        int rd = tk.memory.readInt(SCRATCH + 0x800), wr = tk.memory.readInt(SCRATCH + 0x804);
        tk.memory.writeInt(SCRATCH, rd);
        tk.memory.writeInt(SCRATCH + 4, Blocking.POLLIN); // events; revents 0
        assertEquals(Kernel.BLOCKED, tk.call(task, POLL, SCRATCH, 1, -1));
        int epoll = task.wait.ownedFd;
        assertTrue(epoll >= 0);
        tk.memory.write(SCRATCH + 0x100, "x".getBytes());
        assertEquals(1, tk.call(other, WRITE, wr, SCRATCH + 0x100, 1));
        tk.kernel.scheduler().next(null);
        assertEquals(1, TestKernel.result(task));
        assertEquals(Blocking.POLLIN, tk.memory.read(SCRATCH + 6, 2)[0]);
        assertEquals(-Errno.EBADF, Host.syscall(Sys.FCNTL.nr, epoll, 1, 0), "the wait's epoll fd is closed");

        tk.memory.writeInt(SCRATCH, 999);
        assertEquals(1, tk.call(task, POLL, SCRATCH, 1, 0), "an fd that is not open counts, with POLLNVAL");
        assertEquals(0x20, tk.memory.read(SCRATCH + 6, 2)[0]);
    }

    @Test
    void openingAFifoWaitsWithoutStoppingOtherTasks() throws Exception {
        Path dir = Files.createTempDirectory("goemu-fifo");
        try {
            tk.memory.write(SCRATCH, (dir + "/f\0").getBytes());
            assertEquals(0, tk.call(task, MKNODAT, -100, SCRATCH, 0010600, 0));
            assertEquals(Kernel.BLOCKED, tk.call(task, OPENAT, -100, SCRATCH, 0 /* O_RDONLY */, 0));
            Task writer = other;
            assertEquals(Kernel.BLOCKED, tk.call(writer, OPENAT, -100, SCRATCH, 1 /* O_WRONLY */, 0));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while ((task.state() == Task.State.BLOCKED || writer.state() == Task.State.BLOCKED) && System.nanoTime() < deadline) {
                tk.kernel.scheduler().next(null);
            }
            long w = TestKernel.result(writer);
            long r = TestKernel.result(task);
            assertTrue(r >= 3 && w >= 3 && r != w, "both ends open: " + r + ", " + w);
            assertNull(task.offloaded);
        } finally {
            Files.deleteIfExists(dir.resolve("f"));
            Files.delete(dir);
        }
    }
}
