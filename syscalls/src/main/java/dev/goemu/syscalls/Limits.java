package dev.goemu.syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The guest's resource limits (getrlimit, setrlimit, prlimit64): they start as the host's (in a deterministic run,
 * {@link Determinism#RLIMITS}) and are the kernel's
 * state from then on, never applied to goemu's own process (an RLIMIT_AS of 512 MiB would end the JVM).
 * RLIMIT_NOFILE bounds the guest's fd table; the others are only reported back.
 */
final class Limits {
    static final int RLIMIT_NOFILE = 7, RLIM_NLIMITS = 16;
    private static final long RLIM_INFINITY = -1;
    private static final int CAP_SYS_RESOURCE = 24;

    private final long[] cur = new long[RLIM_NLIMITS], max = new long[RLIM_NLIMITS];
    private final FdTable fds;
    /** Whether goemu's process may raise a hard limit, as the guest's process would natively (it is the same). */
    private final boolean mayRaise = hasCapability(CAP_SYS_RESOURCE);

    /**
     * The limits of a process whose fd table is {@code fds}: its parent's ({@code inherited}), else a deterministic
     * run's fixed ones ({@code deterministic}), else the host's.
     */
    Limits(FdTable fds, Limits inherited, boolean deterministic) {
        this.fds = fds;
        if (inherited != null) {
            System.arraycopy(inherited.cur, 0, cur, 0, RLIM_NLIMITS);
            System.arraycopy(inherited.max, 0, max, 0, RLIM_NLIMITS);
        } else if (deterministic) {
            for (int r = 0; r < RLIM_NLIMITS; r++) {
                cur[r] = Determinism.RLIMITS[r][0];
                max[r] = Determinism.RLIMITS[r][1];
            }
        } else {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment old = arena.allocate(16, 8);
                for (int r = 0; r < RLIM_NLIMITS; r++) {
                    boolean known = Host.syscall(Sys.PRLIMIT64.nr, 0, r, 0, old.address(), 0, 0) == 0;
                    cur[r] = known ? old.get(JAVA_LONG, 0) : RLIM_INFINITY;
                    max[r] = known ? old.get(JAVA_LONG, 8) : RLIM_INFINITY;
                }
            }
        }
        fds.setLimit(cur[RLIMIT_NOFILE]);
    }

    /** The soft limit of a resource (RLIM_INFINITY is -1). */
    long soft(int resource) {
        return cur[resource];
    }

    /** The hard limit of a resource. */
    long hard(int resource) {
        return max[resource];
    }

    /** prlimit64 of the calling process: reads the new limit (if newAddr != 0), sets it, stores the old one. */
    long prlimit(AddressSpace mem, int resource, long newAddr, long oldAddr) {
        if (resource < 0 || resource >= RLIM_NLIMITS) return -Errno.EINVAL;
        long oldCur = cur[resource], oldMax = max[resource];
        if (newAddr != 0) {
            long r = set(resource, mem.readLong(newAddr), mem.readLong(newAddr + 8));
            if (r < 0) return r;
        }
        if (oldAddr != 0) {
            mem.writeLong(oldAddr, oldCur);
            mem.writeLong(oldAddr + 8, oldMax);
        }
        return 0;
    }

    /** Linux's do_prlimit checks: soft within hard, RLIMIT_NOFILE within fs.nr_open, raising hard needs the capability. */
    private long set(int resource, long newCur, long newMax) {
        if (Long.compareUnsigned(newCur, newMax) > 0) return -Errno.EINVAL;
        if (resource == RLIMIT_NOFILE && Long.compareUnsigned(newMax, FdTable.MAX_FDS) > 0) return -Errno.EPERM;
        if (Long.compareUnsigned(newMax, max[resource]) > 0 && !mayRaise) return -Errno.EPERM;
        cur[resource] = newCur;
        max[resource] = newMax;
        if (resource == RLIMIT_NOFILE) fds.setLimit(newCur);
        return 0;
    }

    /** CapEff of goemu's process, from /proc/self/status. */
    private static boolean hasCapability(int cap) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) return (Long.parseUnsignedLong(line.substring(7).trim(), 16) >>> cap & 1) != 0;
            }
        } catch (IOException | NumberFormatException e) {
            // no /proc: assume unprivileged
        }
        return false;
    }
}
