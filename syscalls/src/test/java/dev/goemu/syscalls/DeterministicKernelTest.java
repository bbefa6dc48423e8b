package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static org.junit.jupiter.api.Assertions.*;

/** The kernel's side of deterministic runs: time jumps over sleeps, seeded choices, fixed identity. */
class DeterministicKernelTest {
    private static final int NANOSLEEP = 35, CLOCK_GETTIME = 228, GETRANDOM = 318, UNAME = 63, GETPID = 39;

    /** A virtual clock the test moves by hand, as guest work would. */
    static final class ManualClock extends Clock {
        long now = Determinism.MONOTONIC_START_NANOS;
        @Override public long monotonic() { return now; }
        @Override public long realtime() { return now - Determinism.MONOTONIC_START_NANOS + Determinism.DEFAULT_EPOCH_NANOS; }
        @Override public boolean isVirtual() { return true; }
        @Override public void advanceTo(long t) { now = Math.max(now, t); }
    }

    private static TestKernel kernel(long seed, Determinism.Strategy strategy, ManualClock clock) {
        return new TestKernel(new Determinism(seed, Determinism.DEFAULT_EPOCH_NANOS, strategy), clock);
    }

    @Test
    void idleTimeJumpsToTheDeadlineWithoutWaiting() {
        ManualClock clock = new ManualClock();
        TestKernel tk = kernel(0, new Determinism.Strategy.Random(), clock);
        Task main = tk.kernel.createMainTask();
        tk.writeTimespec(SCRATCH, 6_000_000_000L);
        long wall = System.nanoTime();
        assertEquals(Kernel.BLOCKED, tk.call(main, NANOSLEEP, SCRATCH, 0));
        assertSame(main, tk.kernel.scheduler().next(main));
        assertTrue(System.nanoTime() - wall < 1_000_000_000L, "slept in the host");
        assertEquals(Determinism.MONOTONIC_START_NANOS + 6_000_000_000L, clock.now);
        assertEquals(0, TestKernel.result(main));
        assertEquals(0, tk.call(main, CLOCK_GETTIME, 0, SCRATCH));
        assertEquals(1_704_067_206L, tk.memory.readLong(SCRATCH), "CLOCK_REALTIME: the epoch plus 6 s");
    }

    @Test
    void sameSeedSameChoicesAndBytes() {
        assertEquals(trace(7, new Determinism.Strategy.Random()), trace(7, new Determinism.Strategy.Random()));
        assertNotEquals(trace(7, new Determinism.Strategy.Random()), trace(8, new Determinism.Strategy.Random()));
        assertEquals(trace(3, new Determinism.Strategy.Pct(3, 50)), trace(3, new Determinism.Strategy.Pct(3, 50)));
    }

    /** Tids chosen over 200 decisions among 4 runnable threads, slice lengths, getrandom's bytes. */
    private static List<Long> trace(long seed, Determinism.Strategy strategy) {
        TestKernel tk = kernel(seed, strategy, new ManualClock());
        Task main = tk.kernel.createMainTask();
        for (int i = 0; i < 3; i++) tk.kernel.newTask();
        List<Long> out = new ArrayList<>();
        Task t = tk.kernel.scheduler().next(null);
        for (int i = 0; i < 200; i++) {
            out.add((long) t.tid);
            out.add(tk.kernel.scheduler().sliceBlocks());
            t = tk.kernel.scheduler().next(t);
        }
        assertEquals(16, tk.call(main, GETRANDOM, SCRATCH, 16, 0));
        out.add(tk.memory.readLong(SCRATCH));
        out.add(tk.memory.readLong(SCRATCH + 8));
        return out;
    }

    /**
     * --strace marks what the host decides: a read of a pipe the host feeds, stat, uid, a /proc file of the host;
     * not a read of the guest's own pipe or of a file, nor compute-only calls; and nothing in a plain run.
     */
    @Test
    void straceMarksHostDecidedCalls() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("goemu-det", ".txt");
        try {
            java.nio.file.Files.writeString(file, "input");
            String det = traced(new Determinism(0, Determinism.DEFAULT_EPOCH_NANOS, new Determinism.Strategy.Random()), file);
            assertEquals(List.of(
                    "getpid() = 4194304",
                    "pipe2(0x10000000, 0) = 0",
                    "write(4, \"x\", 1) = 1",
                    "read(3, 0x10000100, 1) = 1",
                    "write(6, \"y\", 1) = 1",
                    "read(5, 0x10000100, 1) = 1 <nondeterministic: outside data>",
                    "dup(5) = 7",
                    "read(7, 0x10000100, 1) = -1 EAGAIN <nondeterministic: outside data>",
                    "openat(AT_FDCWD, \"" + file + "\", 0, 00) = 8",
                    "read(8, 0x10000100, 5) = 5",
                    "fstat(8, 0x10000200) = 0 <nondeterministic: file metadata>",
                    "openat(AT_FDCWD, \"/proc/cpuinfo\", 0, 00) = 9",
                    "read(9, 0x10000100, 1) = 1 <nondeterministic: host machine>",
                    "getuid() = " + Host.syscall(Sys.GETUID.nr, 0, 0, 0) + " <nondeterministic: host machine>",
                    "wait4(-1, 0, 1, 0) = -1 ECHILD"), det.lines().toList());
            String plain = traced(null, file);
            assertFalse(plain.contains("nondeterministic"), plain);
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    /** The trace of the calls above, without the [pid/tid] prefix; fds 5 and 6 are a host pipe given to the guest. */
    private static String traced(Determinism det, java.nio.file.Path file) {
        var out = new java.io.ByteArrayOutputStream();
        TestKernel tk = new TestKernel(det, det == null ? Clock.HOST : new ManualClock(), new java.io.PrintStream(out, true));
        Task main = tk.kernel.createMainTask();
        tk.call(main, GETPID);
        tk.call(main, Sys.PIPE2.nr, SCRATCH, 0);
        while (tk.kernel.fds.openFds().length < 5) tk.kernel.fds.install(Host.syscall(Sys.DUP.nr, 2, 0, 0)); // fds 0-4 taken
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var pair = arena.allocate(8, 4);
            Host.syscall(Sys.PIPE2.nr, pair.address(), 0x800, 0); // O_NONBLOCK
            tk.kernel.fds.installAt(5, pair.get(java.lang.foreign.ValueLayout.JAVA_INT, 0));
            tk.kernel.fds.installAt(6, pair.get(java.lang.foreign.ValueLayout.JAVA_INT, 4));
        }
        int r = tk.memory.readInt(SCRATCH), w = tk.memory.readInt(SCRATCH + 4);
        tk.memory.write(SCRATCH + 0x80, "xy".getBytes());
        tk.call(main, Sys.WRITE.nr, w, SCRATCH + 0x80, 1);
        tk.call(main, Sys.READ.nr, r, SCRATCH + 0x100, 1);
        tk.call(main, Sys.WRITE.nr, 6, SCRATCH + 0x81, 1);
        tk.call(main, Sys.READ.nr, 5, SCRATCH + 0x100, 1);
        tk.call(main, Sys.DUP.nr, 5);
        tk.call(main, Sys.READ.nr, 7, SCRATCH + 0x100, 1);
        tk.memory.write(SCRATCH + 0x300, (file + "\0").getBytes());
        tk.call(main, Sys.OPENAT.nr, -100, SCRATCH + 0x300, 0, 0);
        tk.call(main, Sys.READ.nr, 8, SCRATCH + 0x100, 5);
        tk.call(main, Sys.FSTAT.nr, 8, SCRATCH + 0x200);
        tk.memory.write(SCRATCH + 0x300, "/proc/cpuinfo\0".getBytes());
        tk.call(main, Sys.OPENAT.nr, -100, SCRATCH + 0x300, 0, 0);
        tk.call(main, Sys.READ.nr, 9, SCRATCH + 0x100, 1);
        tk.call(main, Sys.GETUID.nr);
        tk.call(main, Sys.WAIT4.nr, -1, 0, 1, 0); // WNOHANG
        return out.toString().replaceAll("(?m)^\\[\\d+/\\d+\\] ", "");
    }

    /** What Go reads of the machine at start is fixed: resource limits, its cgroup and mounts, the huge page size. */
    @Test
    void theMachineIsFixed() {
        TestKernel tk = kernel(0, new Determinism.Strategy.Random(), new ManualClock());
        Task main = tk.kernel.createMainTask();
        assertEquals(0, tk.call(main, Sys.PRLIMIT64.nr, 0, 7, 0, SCRATCH)); // RLIMIT_NOFILE
        assertEquals(1024, tk.memory.readLong(SCRATCH));
        assertEquals(524_288, tk.memory.readLong(SCRATCH + 8));
        assertEquals("0::/\n", fileOf(tk, main, "/proc/self/cgroup"));
        assertEquals("rootfs / rootfs rw 0 0\n", fileOf(tk, main, "/proc/mounts"));
        assertEquals("2097152\n", fileOf(tk, main, "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"));
    }

    private static String fileOf(TestKernel tk, Task task, String path) {
        tk.memory.write(SCRATCH + 0x300, (path + "\0").getBytes());
        int fd = (int) tk.call(task, Sys.OPENAT.nr, -100, SCRATCH + 0x300, 0, 0);
        long n = tk.call(task, Sys.READ.nr, fd, SCRATCH + 0x400, 256);
        tk.call(task, Sys.CLOSE.nr, fd);
        return new String(tk.memory.read(SCRATCH + 0x400, (int) n));
    }

    /**
     * /dev/urandom and /dev/random read getrandom's seeded stream in a deterministic run (dup'd and readv too), while
     * the fd stays the host's device (fstat: character device 1,9); a plain run reads the host's bytes.
     */
    @Test
    void randomDevicesReadTheSeed() {
        byte[] fromGetrandom = randomDevice(7, 0, Sys.GETRANDOM);
        assertArrayEquals(fromGetrandom, randomDevice(7, 0, Sys.READ));
        assertArrayEquals(fromGetrandom, randomDevice(7, 0, Sys.READV));
        assertArrayEquals(fromGetrandom, randomDevice(7, 1, Sys.READ), "/dev/random");
        assertFalse(java.util.Arrays.equals(fromGetrandom, randomDevice(8, 0, Sys.READ)));
        assertFalse(java.util.Arrays.equals(randomDevice(-1, 0, Sys.READ), randomDevice(-1, 0, Sys.READ)), "host bytes");
    }

    /** 16 bytes from /dev/urandom ({@code random} 0) or /dev/random (1) read with {@code how}; seed -1: a plain run. */
    private static byte[] randomDevice(long seed, int random, Sys how) {
        Determinism det = seed < 0 ? null : new Determinism(seed, Determinism.DEFAULT_EPOCH_NANOS, new Determinism.Strategy.Random());
        TestKernel tk = new TestKernel(det, det == null ? Clock.HOST : new ManualClock());
        Task main = tk.kernel.createMainTask();
        if (how == Sys.GETRANDOM) {
            assertEquals(16, tk.call(main, GETRANDOM, SCRATCH, 16, 0));
            return tk.memory.read(SCRATCH, 16);
        }
        tk.memory.write(SCRATCH + 0x300, (random == 1 ? "/dev/random\0" : "/dev/urandom\0").getBytes());
        long fd = tk.call(main, Sys.OPENAT.nr, -100, SCRATCH + 0x300, 0, 0);
        long dup = tk.call(main, Sys.DUP.nr, fd);
        assertEquals(0, tk.call(main, Sys.FSTAT.nr, dup, SCRATCH + 0x200));
        assertEquals(0020000, tk.memory.readInt(SCRATCH + 0x200 + 24) & 0170000, "a character device");
        assertEquals(random == 1 ? 0x108 : 0x109, tk.memory.readLong(SCRATCH + 0x200 + 40), "rdev 1,9 or 1,8");
        if (how == Sys.READ) {
            assertEquals(16, tk.call(main, Sys.READ.nr, dup, SCRATCH, 16));
        } else { // two iovecs of 10 and 6 bytes
            tk.memory.writeLong(SCRATCH + 0x100, SCRATCH);
            tk.memory.writeLong(SCRATCH + 0x108, 10);
            tk.memory.writeLong(SCRATCH + 0x110, SCRATCH + 10);
            tk.memory.writeLong(SCRATCH + 0x118, 6);
            assertEquals(16, tk.call(main, Sys.READV.nr, dup, SCRATCH + 0x100, 2));
        }
        return tk.memory.read(SCRATCH, 16);
    }

    @Test
    void identityIsFixed() {
        TestKernel tk = kernel(0, new Determinism.Strategy.Random(), new ManualClock());
        Task main = tk.kernel.createMainTask();
        assertEquals(Processes.FIRST_ID, tk.call(main, GETPID));
        assertEquals(0, tk.call(main, UNAME, SCRATCH));
        assertEquals("Linux", tk.memory.readCString(SCRATCH, 65));
        assertEquals("goemu", tk.memory.readCString(SCRATCH + 65, 65));
        assertEquals(-Errno.EINVAL, tk.call(main, GETRANDOM, SCRATCH, 16, 0x100));
        assertEquals(-Errno.EFAULT, tk.call(main, GETRANDOM, 0x1000, 16, 0));
    }
}
