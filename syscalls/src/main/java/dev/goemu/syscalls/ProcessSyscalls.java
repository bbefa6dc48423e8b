package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Process identity, limits, system information and randomness: the host's answers, the guest's pid. */
final class ProcessSyscalls {
    private static final int PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_SET_NAME = 15, PR_GET_NAME = 16;

    private final Kernel k;

    private static final int UTSNAME_FIELD = 65, GETRANDOM_CHUNK = 256;
    private static final int GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;

    ProcessSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.GETPID, "", (task, a) -> k.pid);
        for (Sys id : new Sys[] {Sys.GETUID, Sys.GETEUID, Sys.GETGID, Sys.GETEGID}) t.add(id, "", k.passthrough.handler());
        t.add(Sys.GETGROUPS, "dx", (task, a) -> getgroups((int) a[0], a[1]));
        t.add(Sys.GETRESUID, "ppp", k.passthrough.struct(4));
        t.add(Sys.GETRESGID, "ppp", k.passthrough.struct(4));
        SyscallTable.Handler hostUname = k.passthrough.struct(UTSNAME_FIELD * 6);
        t.add(Sys.UNAME, "p", (task, a) -> k.deterministic() != null ? fixedUname(a[0]) : hostUname.call(task, a));
        t.partial(Sys.PRLIMIT64, "ddxx", "the caller's own limits only; kept by goemu, only RLIMIT_NOFILE is enforced", (task, a) -> {
            if (a[0] != 0 && (int) a[0] != k.pid) return -Errno.ESRCH;
            return k.limits.prlimit(k.memory, (int) a[1], a[2], a[3]);
        });
        t.partial(Sys.GETRLIMIT, "dx", "kept by goemu", (task, a) -> k.limits.prlimit(k.memory, (int) a[0], 0, a[1]));
        t.partial(Sys.SETRLIMIT, "dx", "kept by goemu, only RLIMIT_NOFILE is enforced (never applied to the JVM)", (task, a) -> k.limits.prlimit(k.memory, (int) a[0], a[1], 0));
        t.add(Sys.GETRUSAGE, "dp", k.passthrough.struct(144));
        t.add(Sys.SYSINFO, "p", k.passthrough.struct(112));
        t.add(Sys.TIMES, "p", k.passthrough.struct(32));
        SyscallTable.Handler hostGetrandom = k.passthrough.handler();
        t.add(Sys.GETRANDOM, "Bdx", (task, a) -> k.deterministic() != null ? seededRandom(a[0], a[1], (int) a[2]) : hostGetrandom.call(task, a));
        t.partial(Sys.PRCTL, "dxxxx", "PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG, PR_GET_PDEATHSIG; other options EINVAL", this::prctl);
    }

    /** uname in deterministic mode: {@link Determinism#UNAME}, each field NUL-padded to its 65 bytes. */
    private long fixedUname(long buf) {
        byte[] uts = new byte[UTSNAME_FIELD * 6];
        for (int i = 0; i < 6; i++) {
            byte[] f = Determinism.UNAME[i].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(f, 0, uts, i * UTSNAME_FIELD, f.length);
        }
        k.memory.write(buf, uts);
        return 0;
    }

    /**
     * getrandom in deterministic mode: bytes from the seed, at most {@link #GETRANDOM_CHUNK} a call (Linux too may
     * return fewer than asked beyond 256), written in place; the flags are checked as Linux checks them.
     */
    private long seededRandom(long buf, long count, int flags) {
        if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) != 0) return -Errno.EINVAL;
        if ((flags & (GRND_RANDOM | GRND_INSECURE)) == (GRND_RANDOM | GRND_INSECURE)) return -Errno.EINVAL;
        int n = (int) Math.min(count, GETRANDOM_CHUNK);
        if (n == 0) return 0;
        k.memory.write(buf, k.randomBytes(n));
        return n;
    }

    /**
     * getgroups: the count is an int (1<<40 is 0: just the number of groups); the host fills in at most NGROUPS_MAX
     * of them, copied out to the guest only as far as it has them.
     */
    private long getgroups(int size, long list) {
        if (size < 0) return -Errno.EINVAL;
        final int ngroupsMax = 65536;
        int n = Math.min(size, ngroupsMax);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4L * Math.max(n, 1), 4);
            long r = Host.syscall(Sys.GETGROUPS.nr, n, buf.address(), 0);
            if (r > 0 && n > 0) k.memory.write(list, buf.asSlice(0, 4 * r).toArray(ValueLayout.JAVA_BYTE));
            return r;
        }
    }

    /** The thread name and the parent-death signal are kept; other options are refused as a kernel without them would. */
    private long prctl(Task task, long[] a) {
        switch ((int) a[0]) {
            case PR_SET_PDEATHSIG -> {
                if (a[1] < 0 || a[1] > SignalSyscalls.NSIG) return -Errno.EINVAL;
                k.process.parentDeathSignal = (int) a[1];
                return 0;
            }
            case PR_GET_PDEATHSIG -> {
                k.memory.writeInt(a[1], k.process.parentDeathSignal);
                return 0;
            }
            case PR_SET_NAME -> {
                task.name = k.memory.readCString(a[1], 16);
                return 0;
            }
            case PR_GET_NAME -> {
                byte[] name = Arrays.copyOf(k.proc.comm(task).getBytes(StandardCharsets.UTF_8), 16);
                name[15] = 0;
                k.memory.write(a[1], name);
                return 0;
            }
            default -> {
                return -Errno.EINVAL;
            }
        }
    }
}
