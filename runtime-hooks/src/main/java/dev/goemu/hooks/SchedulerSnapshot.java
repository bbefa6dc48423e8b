package dev.goemu.hooks;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The Go scheduler's state at one moment, read from outside the guest: what the runtime's own {@code schedtrace}
 * prints from {@code runtime.sched}, {@code allp}, {@code allm} and {@code allgs}. Ids of absent objects (a P
 * without M, an M without current G) are empty.
 *
 * @param threads      {@code mcount()}: Ms ever made minus those freed ({@code sched.mnext - sched.nmfreed})
 * @param needSpinning empty before Go 1.21, which added {@code sched.needspinning}
 * @param machines     empty unless read with detail, as are {@code goroutines}
 */
public record SchedulerSnapshot(long gomaxprocs, long idleProcs, long threads, long spinningThreads,
                                OptionalLong needSpinning, long idleThreads, long globalRunqueue, long gcWaiting,
                                long idleLockedThreads, long stopWait, long sysmonWait, List<Proc> procs,
                                List<Machine> machines, List<Goroutine> goroutines) {
    /** A P: its local run queue holds {@code runqueue} goroutines ({@code runqtail - runqhead}; runnext not counted). */
    public record Proc(long id, long status, long schedtick, long syscalltick, OptionalLong m, long runqueue,
                       long freeGoroutines, long timers) {}

    /** An M (an OS thread the runtime made). */
    public record Machine(long id, OptionalLong p, OptionalLong curg, long mallocing, long throwing, String preemptoff,
                          long locks, long dying, boolean spinning, boolean blocked, OptionalLong lockedg) {}

    /** A G: {@code status} is the raw status word, {@link GoStatus} names it; {@code waitReason} as the runtime spells it. */
    public record Goroutine(long goid, int status, String waitReason, OptionalLong m, OptionalLong lockedm) {}

    /**
     * Reads snapshots of one binary's runtime. Creating it resolves the globals it needs, so a binary whose runtime
     * cannot be found fails here, with the reason, and not at every read.
     */
    public static final class Reader {
        /** More than any real program has; a longer list means the reader walked into memory being rewritten. */
        private static final int MAX_OBJECTS = 10_000_000;
        private static final String G = "runtime.g", M = "runtime.m", P = "runtime.p", SCHED = "runtime.schedt";

        private final RuntimeLayout layout;
        private final long sched, allp, allm, allgs, gomaxprocs;
        private final OptionalLong waitReasonStrings;
        /** Field paths that moved between releases: the one this runtime has. */
        private final String runqueueSize, freeCount, timersLength;

        /** @throws LayoutUnavailableException if a global the snapshot reads cannot be found in this binary */
        public Reader(RuntimeLayout layout) throws LayoutUnavailableException {
            this.layout = layout;
            this.sched = layout.requireGlobal("runtime.sched");
            this.allp = layout.requireGlobal("runtime.allp");
            this.allm = layout.requireGlobal("runtime.allm");
            this.allgs = layout.requireGlobal("runtime.allgs");
            this.gomaxprocs = layout.requireGlobal("runtime.gomaxprocs");
            this.waitReasonStrings = layout.global("runtime.waitReasonStrings");
            // Moved since 1.21 (1.26 has the new ones): schedt.runqsize is now the gQueue's own size, gFree.n is
            // gFree.size, and p.timers, once the heap slice itself, is a struct holding it.
            this.runqueueSize = layout.has(SCHED, "runq.size") ? "runq.size" : "runqsize";
            this.freeCount = layout.has(P, "gFree.size") ? "gFree.size" : "gFree.n";
            this.timersLength = layout.has(P, "timers.heap.len") ? "timers.heap.len" : "timers.len";
            RuntimeReader.requireFields(layout, SCHED, "npidle", "mnext", "nmfreed", "nmspinning", "nmidle",
                    runqueueSize, "gcwaiting", "nmidlelocked", "stopwait", "sysmonwait");
            RuntimeReader.requireFields(layout, P, "id", "status", "schedtick", "syscalltick", "m", "runqhead",
                    "runqtail", freeCount, timersLength);
            RuntimeReader.requireFields(layout, M, "id", "p", "curg", "mallocing", "throwing", "preemptoff.str",
                    "preemptoff.len", "locks", "dying", "spinning", "blocked", "lockedg", "alllink");
            RuntimeReader.requireFields(layout, G, "goid", "atomicstatus", "waitreason", "m", "lockedm");
        }

        /** The scheduler as it is now; with {@code detailed}, also every M and G (scheddetail=1). */
        public SchedulerSnapshot read(Guest guest, boolean detailed) {
            RuntimeReader r = new RuntimeReader(guest, layout);
            long[] ps = r.slice(allp);
            List<Proc> procs = new ArrayList<>();
            for (long i = 0; i < Math.min(ps[1], MAX_OBJECTS); i++) {
                long p = guest.readLong(ps[0] + 8 * i);
                long head = r.number(p, P, "runqhead"), tail = r.number(p, P, "runqtail");
                procs.add(new Proc(r.number(p, P, "id"), r.number(p, P, "status"), r.number(p, P, "schedtick"),
                        r.number(p, P, "syscalltick"), id(r, r.number(p, P, "m"), M, "id"), (tail - head) & 0xffffffffL,
                        r.number(p, P, freeCount), r.number(p, P, timersLength)));
            }
            List<Machine> machines = detailed ? machines(r) : List.of();
            List<Goroutine> goroutines = detailed ? goroutines(r) : List.of();
            return new SchedulerSnapshot(guest.readInt(gomaxprocs), r.number(sched, SCHED, "npidle"),
                    (int) (r.number(sched, SCHED, "mnext") - r.number(sched, SCHED, "nmfreed")),
                    r.number(sched, SCHED, "nmspinning"),
                    layout.has(SCHED, "needspinning")
                            ? OptionalLong.of(r.number(sched, SCHED, "needspinning")) : OptionalLong.empty(),
                    r.number(sched, SCHED, "nmidle"), r.number(sched, SCHED, runqueueSize),
                    r.number(sched, SCHED, "gcwaiting"), r.number(sched, SCHED, "nmidlelocked"),
                    r.number(sched, SCHED, "stopwait"), r.number(sched, SCHED, "sysmonwait"),
                    List.copyOf(procs), machines, goroutines);
        }

        private List<Machine> machines(RuntimeReader r) {
            List<Machine> out = new ArrayList<>();
            Set<Long> seen = new HashSet<>();
            for (long m = r.guest().readLong(allm); m != 0 && seen.add(m) && seen.size() <= MAX_OBJECTS;
                 m = r.number(m, M, "alllink")) {
                out.add(new Machine(r.number(m, M, "id"), id(r, r.number(m, M, "p"), P, "id"),
                        id(r, r.number(m, M, "curg"), G, "goid"), r.number(m, M, "mallocing"), r.number(m, M, "throwing"),
                        r.string(m, M, "preemptoff", 256), r.number(m, M, "locks"), r.number(m, M, "dying"),
                        r.flag(m, M, "spinning"), r.flag(m, M, "blocked"), id(r, r.number(m, M, "lockedg"), G, "goid")));
            }
            return List.copyOf(out);
        }

        private List<Goroutine> goroutines(RuntimeReader r) {
            long[] gs = r.slice(allgs);
            List<Goroutine> out = new ArrayList<>();
            for (long i = 0; i < Math.min(gs[1], MAX_OBJECTS); i++) {
                long g = r.guest().readLong(gs[0] + 8 * i);
                out.add(new Goroutine(r.number(g, G, "goid"), (int) r.number(g, G, "atomicstatus"),
                        waitReason(r, (int) r.number(g, G, "waitreason")), id(r, r.number(g, G, "m"), M, "id"),
                        id(r, r.number(g, G, "lockedm"), M, "id")));
            }
            return List.copyOf(out);
        }

        /** waitReasonStrings[reason], read from the guest as {@code waitReason.String} does. */
        private String waitReason(RuntimeReader r, int reason) {
            if (waitReasonStrings.isEmpty()) return "wait reason " + reason;
            String s = r.waitReason(waitReasonStrings.getAsLong(), reason);
            return s.isEmpty() && reason != 0 ? "unknown wait reason" : s;
        }

        /** The id of the object a pointer field points at; empty for nil. */
        private static OptionalLong id(RuntimeReader r, long pointer, String type, String idField) {
            return pointer == 0 ? OptionalLong.empty() : OptionalLong.of(r.number(pointer, type, idField));
        }
    }
}
