package dev.goemu.hooks;

import java.io.IOException;
import java.io.Writer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Writes goroutine events as a Chrome trace-event file (the JSON object format that chrome://tracing and
 * https://ui.perfetto.dev open), with three groups of tracks:
 * <ul>
 *   <li>"Ps": a track per P with a slice for each stretch a goroutine ran on it ("G7 main.worker");</li>
 *   <li>"Ms": a track per M with the same running slices plus the goroutine's system calls ("G7 syscall"), and an
 *       instant event where the M created a goroutine;</li>
 *   <li>"Goroutines": a track per goroutine with its status as slices (runnable, running, "waiting: chan receive").</li>
 * </ul>
 * Slices are complete events ({@code "ph":"X"}) written when they end, so the file is streamed; whatever is open when
 * the trace finishes ends there. Times are microseconds since {@code originNanos}.
 */
public final class GoroutineChromeTrace implements GoroutineEvent.Sink {
    private static final int PS = 1, MS = 2, GOROUTINES = 3;

    private record Slice(int pid, long tid, String name, String category, long startNanos, long goid) {}

    /** A goroutine running (or in a system call) on M {@code m} holding P {@code p} (-1: none yet) since startNanos. */
    private record OnThread(long goid, long m, long p, boolean syscall, long startNanos) {}

    private final Writer out;
    private final long originNanos;
    private boolean first = true;
    private final Map<Long, String> entries = new HashMap<>();
    /** Per goroutine: the slice of its current status on its own track. */
    private final Map<Long, Slice> statusSlices = new HashMap<>();
    /** Per goroutine running or in a system call: where, since when. */
    private final Map<Long, OnThread> onThreads = new HashMap<>();
    private final Set<String> namedTracks = new HashSet<>();

    public GoroutineChromeTrace(Writer out, long originNanos) throws IOException {
        this.out = out;
        this.originNanos = originNanos;
        out.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
        int order = 0;
        for (String process : new String[] {"Ps", "Ms", "Goroutines"}) {
            int pid = ++order;
            write("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + pid + ",\"args\":{\"name\":\"" + process + "\"}}");
            write("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" + pid + ",\"args\":{\"sort_index\":" + pid + "}}");
        }
    }

    @Override
    public void accept(GoroutineEvent event) throws IOException {
        long t = event.timeNanos();
        switch (event) {
            case GoroutineEvent.Created c -> {
                entries.put(c.goid(), c.entry());
                if (c.m() >= 0) {
                    track(MS, c.m(), "M" + c.m());
                    write(String.format(Locale.ROOT, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%d,\"tid\":%d,\"ts\":%s,\"name\":%s,"
                                    + "\"cat\":\"create\",\"args\":{\"goid\":%d,\"parent_goid\":%d,\"entry\":%s}}", MS, c.m(),
                            micros(t - originNanos), GoroutineJsonLines.quote("create G" + c.goid()), c.goid(), c.parentGoid(),
                            GoroutineJsonLines.quote(c.entry())));
                }
                track(GOROUTINES, c.goid(), label(c.goid()));
                startStatus(c.goid(), c.status(), c.waitReason(), t);
            }
            case GoroutineEvent.StatusChanged s -> {
                end(statusSlices.remove(s.goid()), t);
                endOnThread(onThreads.remove(s.goid()), s.m(), s.p(), t);
                if (s.to() == GoStatus.DEAD) return;
                track(GOROUTINES, s.goid(), label(s.goid()));
                startStatus(s.goid(), s.to(), s.waitReason(), t);
                boolean syscall = s.to() == GoStatus.SYSCALL;
                if ((s.to() == GoStatus.RUNNING || syscall) && s.m() >= 0) {
                    track(MS, s.m(), "M" + s.m());
                    onThreads.put(s.goid(), new OnThread(s.goid(), s.m(), syscall ? -1 : s.p(), syscall, t));
                }
            }
        }
    }

    /**
     * Ends a goroutine's stretch on its M and, if it ran, on its P. A goroutine leaving a system call may start running
     * before its M has a P again (Go 1.26's exitsyscall): then the P its M holds when it stops running is the one it
     * ran on.
     */
    private void endOnThread(OnThread on, long endingM, long endingP, long t) throws IOException {
        if (on == null) return;
        String name = on.syscall() ? "G" + on.goid() + " syscall" : label(on.goid());
        String category = on.syscall() ? "syscall" : "running";
        end(new Slice(MS, on.m(), name, category, on.startNanos(), on.goid()), t);
        long p = on.p() >= 0 ? on.p() : endingM == on.m() ? endingP : -1;
        if (on.syscall() || p < 0) return;
        track(PS, p, "P" + p);
        end(new Slice(PS, p, name, category, on.startNanos(), on.goid()), t);
    }

    @Override
    public void finish(long timeNanos) throws IOException {
        for (Slice s : statusSlices.values()) end(s, timeNanos);
        for (OnThread on : onThreads.values()) endOnThread(on, -1, -1, timeNanos);
        statusSlices.clear();
        onThreads.clear();
        out.write("\n]}\n");
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private void startStatus(long goid, int status, String reason, long t) {
        String name = GoStatus.name(status) + (reason != null && !reason.isEmpty() ? ": " + reason : "");
        statusSlices.put(goid, new Slice(GOROUTINES, goid, name, GoStatus.name(status), t, goid));
    }

    private String label(long goid) {
        String entry = entries.get(goid);
        return entry == null ? "G" + goid : "G" + goid + " " + entry;
    }

    /** Names a track the first time it is used ("P0", "M3", "G7 main.worker"), ordered by its id. */
    private void track(int pid, long tid, String name) throws IOException {
        if (!namedTracks.add(pid + "/" + tid)) return;
        write("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid + ",\"tid\":" + tid + ",\"args\":{\"name\":"
                + GoroutineJsonLines.quote(name) + "}}");
        write("{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":" + pid + ",\"tid\":" + tid + ",\"args\":{\"sort_index\":"
                + tid + "}}");
    }

    private void end(Slice s, long endNanos) throws IOException {
        if (s == null) return;
        write(String.format(Locale.ROOT, "{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%s,\"dur\":%s,\"name\":%s,\"cat\":\"%s\","
                        + "\"args\":{\"goid\":%d}}", s.pid(), s.tid(), micros(s.startNanos() - originNanos),
                micros(Math.max(0, endNanos - s.startNanos())), GoroutineJsonLines.quote(s.name()),
                s.category(), s.goid()));
    }

    /** Trace-event times and durations are microseconds; nanosecond precision is kept in the fraction. */
    private static String micros(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1000.0);
    }

    private void write(String event) throws IOException {
        if (!first) out.write(",\n");
        first = false;
        out.write(event);
    }
}
