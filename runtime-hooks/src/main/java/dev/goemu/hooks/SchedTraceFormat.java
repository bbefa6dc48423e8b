package dev.goemu.hooks;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Prints a {@link SchedulerSnapshot} the way the runtime's own {@code schedtrace} (proc.go) prints it under
 * {@code GODEBUG=schedtrace=N[,scheddetail=1]}, in the dialect of the binary's release, so the two can be compared
 * line by line:
 * <ul>
 *   <li>before Go 1.21 an absent P, M or G prints as -1, from 1.21 as nil (1.21 also added {@code needspinning} and
 *       made {@code gcwaiting}/{@code sysmonwait} bools);</li>
 *   <li>from Go 1.26 the per-P queue lengths print as {@code [ 0 0 ]} followed by {@code schedticks=[ 3 5 ]}, before
 *       as {@code [0 0]}.</li>
 * </ul>
 */
public final class SchedTraceFormat {
    private final boolean nilForAbsent;
    private final boolean schedticks;
    private final boolean boolWaitFlags;

    private SchedTraceFormat(boolean nilForAbsent, boolean schedticks, boolean boolWaitFlags) {
        this.nilForAbsent = nilForAbsent;
        this.schedticks = schedticks;
        this.boolWaitFlags = boolWaitFlags;
    }

    /** The dialect of the runtime in a binary built with {@code goVersion} ("go1.21.13"; empty if unknown: the newest). */
    public static SchedTraceFormat of(RuntimeLayout layout, Optional<String> goVersion) {
        int minor = goVersion.flatMap(LayoutTable::minorRelease).map(m -> Integer.parseInt(m.substring("go1.".length())))
                .orElse(Integer.MAX_VALUE);
        String gcwaiting = layout.typeName("runtime.schedt", "gcwaiting");
        return new SchedTraceFormat(minor >= 21, minor >= 26, gcwaiting.endsWith("Bool") || gcwaiting.equals("bool"));
    }

    /**
     * The lines schedtrace would print for {@code s} at {@code millis} ms since its first trace: one line, or with
     * {@code detailed} the SCHED line followed by one line per P, M and G.
     */
    public List<String> lines(SchedulerSnapshot s, long millis, boolean detailed) {
        List<String> out = new ArrayList<>();
        StringBuilder head = new StringBuilder();
        head.append("SCHED ").append(millis).append("ms: gomaxprocs=").append(s.gomaxprocs())
                .append(" idleprocs=").append(s.idleProcs()).append(" threads=").append(s.threads())
                .append(" spinningthreads=").append(s.spinningThreads());
        s.needSpinning().ifPresent(n -> head.append(" needspinning=").append(n));
        head.append(" idlethreads=").append(s.idleThreads()).append(" runqueue=").append(s.globalRunqueue());
        if (detailed) {
            head.append(" gcwaiting=").append(waitFlag(s.gcWaiting())).append(" nmidlelocked=").append(s.idleLockedThreads())
                    .append(" stopwait=").append(s.stopWait()).append(" sysmonwait=").append(waitFlag(s.sysmonWait()));
            out.add(head.toString());
            for (int i = 0; i < s.procs().size(); i++) {
                SchedulerSnapshot.Proc p = s.procs().get(i);
                out.add("  P" + i + ": status=" + p.status() + " schedtick=" + p.schedtick() + " syscalltick="
                        + p.syscalltick() + " m=" + id(p.m()) + " runqsize=" + p.runqueue() + " gfreecnt="
                        + p.freeGoroutines() + " timerslen=" + p.timers());
            }
            for (SchedulerSnapshot.Machine m : s.machines()) {
                out.add("  M" + m.id() + ": p=" + id(m.p()) + " curg=" + id(m.curg()) + " mallocing=" + m.mallocing()
                        + " throwing=" + m.throwing() + " preemptoff=" + m.preemptoff() + " locks=" + m.locks()
                        + " dying=" + m.dying() + " spinning=" + m.spinning() + " blocked=" + m.blocked()
                        + " lockedg=" + id(m.lockedg()));
            }
            for (SchedulerSnapshot.Goroutine g : s.goroutines()) {
                out.add("  G" + g.goid() + ": status=" + g.status() + "(" + g.waitReason() + ") m=" + id(g.m())
                        + " lockedm=" + id(g.lockedm()));
            }
            return out;
        }
        List<SchedulerSnapshot.Proc> procs = s.procs();
        for (int i = 0; i < procs.size(); i++) {
            head.append(' ');
            if (i == 0) head.append(schedticks ? "[ " : "[");
            head.append(procs.get(i).runqueue());
            if (i == procs.size() - 1) head.append(schedticks ? " ]" : "]");
        }
        if (schedticks) {
            head.append(" schedticks=[ ");
            for (SchedulerSnapshot.Proc p : procs) head.append(p.schedtick()).append(' ');
            head.append(']');
        }
        out.add(head.toString());
        return out;
    }

    private String id(OptionalLong id) {
        return id.isPresent() ? Long.toString(id.getAsLong()) : nilForAbsent ? "nil" : "-1";
    }

    private String waitFlag(long value) {
        return boolWaitFlags ? Boolean.toString(value != 0) : Long.toString(value);
    }
}
