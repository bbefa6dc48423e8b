package dev.goemu.syscalls;

import java.util.Map;

import java.util.SplittableRandom;

/**
 * A deterministic run's settings (goemu run --deterministic): every value the guest could observe that is not an
 * input (time, the schedule, random bytes, ids, the machine's identity) is a function of these.
 *
 * @param seed       chooses the schedule and the random bytes
 * @param epochNanos CLOCK_REALTIME when the guest starts
 * @param strategy   how the next thread and the slice lengths are drawn
 */
public record Determinism(long seed, long epochNanos, Strategy strategy) {
    /** 2024-01-01T00:00:00Z, CLOCK_REALTIME at the start unless --epoch says otherwise. */
    public static final long DEFAULT_EPOCH_NANOS = 1_704_067_200L * 1_000_000_000L;
    /** CLOCK_MONOTONIC at the start: a machine booted a minute ago (Linux's is time since boot, never 0). */
    public static final long MONOTONIC_START_NANOS = 60L * 1_000_000_000L;
    /** The CPUs a deterministic guest sees unless --cpus says otherwise: enough for real parallelism in Go. */
    public static final int DEFAULT_CPUS = 4;
    /** uname(2)'s answer, field by field (the host's would make output depend on the machine). */
    static final String[] UNAME = {"Linux", "goemu", "6.1.0-goemu", "#1 SMP PREEMPT_DYNAMIC", "x86_64", "(none)"};
    /**
     * Files every Go program reads at start whose host contents would make a run depend on the machine: its cgroup
     * (from Go 1.25 a CPU quota there lowers GOMAXPROCS), the mount table that finds the cgroup's files, and the
     * huge page size. A process in the root cgroup with no cgroup file system mounted has no quota; /proc/self/...
     * and /proc/PID/... of the process itself are meant, and /proc/mounts.
     */
    static final Map<String, String> FIXED_PROC_FILES = Map.of(
            "cgroup", "0::/\n",
            "mountinfo", "1 0 0:1 / / rw - rootfs rootfs rw\n",
            "mounts", "rootfs / rootfs rw 0 0\n");
    static final String THP_SIZE_PATH = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", THP_SIZE = "2097152\n";
    /**
     * The resource limits a deterministic root process starts with (soft, hard; -1 unlimited), by resource number:
     * Linux's defaults for a login session (systemd's 1024:524288 open files, 8 MiB stack, 8 MiB locked memory), the
     * process and signal counts of a machine with 16 GiB.
     */
    static final long[][] RLIMITS = {
            {-1, -1}, {-1, -1}, {-1, -1}, {8 << 20, -1}, {0, -1}, {-1, -1}, {63_432, 63_432}, {1024, 524_288},
            {8 << 20, 8 << 20}, {-1, -1}, {-1, -1}, {63_432, 63_432}, {819_200, 819_200}, {0, 0}, {0, 0}, {-1, -1}};

    /** How a deterministic scheduler chooses; both draw every choice from the seed. */
    public sealed interface Strategy {
        /** Uniformly random: the next thread among the runnable ones, and the slice length. */
        record Random() implements Strategy {
            @Override public String toString() { return "random"; }
        }

        /**
         * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte: "A Randomized Scheduler with Probabilistic Guarantees
         * of Finding Bugs", ASPLOS 2010): random thread priorities, the highest runnable runs, and at
         * {@code depth - 1} random points among the first {@code steps} scheduling decisions the running thread
         * drops below all others. Finds a bug of depth d with probability at least 1/(n k^(d-1)) per run.
         */
        record Pct(int depth, int steps) implements Strategy {
            @Override public String toString() { return "pct:" + depth + ":" + steps; }
        }
    }

    /**
     * A random stream for one consumer ({@code stream}) of one process ({@code pid}): streams are independent, so
     * that the guest asking for more random bytes does not change the schedule.
     */
    SplittableRandom random(int pid, int stream) {
        return new SplittableRandom(mix(mix(seed, pid), stream));
    }

    /** splitmix64's finaliser over a combination: distinct inputs give unrelated seeds. */
    private static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
