package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.hooks.Debuggee;
import dev.goemu.hooks.GoBuildInfo;
import dev.goemu.hooks.GoFormatException;
import dev.goemu.hooks.GoProgram;
import dev.goemu.hooks.GoroutineChromeTrace;
import dev.goemu.hooks.GoroutineEvent;
import dev.goemu.hooks.GoroutineJsonLines;
import dev.goemu.hooks.GoroutineTracer;
import dev.goemu.hooks.LayoutUnavailableException;
import dev.goemu.hooks.RuntimeLayout;
import dev.goemu.hooks.SchedTraceFormat;
import dev.goemu.hooks.SchedulerSnapshot;
import dev.goemu.hooks.disasm.DisassemblerUnavailableException;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.syscalls.GuestFault;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live G/M/P views of {@code goemu run}: {@code --sched-trace} (a periodic schedtrace line computed from outside)
 * and {@code --trace-goroutines} (every goroutine's lifecycle, to files). Each registers its hooks only when asked for;
 * a plain run never builds this. A view the binary cannot support (no Go runtime layout) is reported in one line on
 * stderr, and the program runs without it.
 */
final class RuntimeViews implements AutoCloseable {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m)");
    static final long MIN_PERIOD_NANOS = 1_000_000;

    /** What the user asked for; a period of 0 means no --sched-trace. */
    record Request(long schedPeriodNanos, boolean schedDetail, Optional<Path> goroutineTrace) {
        boolean any() {
            return schedPeriodNanos > 0 || goroutineTrace.isPresent();
        }
    }

    private final PrintStream err;
    private final List<Debuggee.Registration> registrations = new ArrayList<>();
    private GoroutineTracer tracer;
    private Path jsonLines, chromeTrace;

    private RuntimeViews(PrintStream err) {
        this.err = err;
    }

    /** Nanoseconds in "500ms", "1s", "2.5s" (also ns, us, m); refuses anything else or less than {@code minNanos}. */
    static long parseDuration(String option, String text, long minNanos) throws GuestOptions.Refused {
        Matcher m = DURATION.matcher(text);
        String wanted = option + " wants a duration such as 500ms, 1s or 2.5s, got '" + text + "'";
        if (!m.matches()) throw new GuestOptions.Refused(2, wanted);
        double unit = switch (m.group(2)) {
            case "ns" -> 1;
            case "us", "µs" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            default -> 60e9;
        };
        double nanos = Double.parseDouble(m.group(1)) * unit;
        if (nanos < minNanos) {
            throw new GuestOptions.Refused(2, option + " must be at least " + (minNanos >= 1_000_000 ? minNanos / 1_000_000 + "ms"
                    : minNanos / 1000 + "us") + ", got '" + text + "'");
        }
        return (long) nanos;
    }

    /** The Chrome trace that goes with JSON Lines file {@code file}: x.jsonl → x.trace.json, x → x.trace.json. */
    static Path chromeTracePath(Path file) {
        String name = file.getFileName().toString();
        String stem = name.endsWith(".jsonl") ? name.substring(0, name.length() - ".jsonl".length()) : name;
        return file.resolveSibling(stem + ".trace.json");
    }

    /** Sets up what {@code request} asks for on {@code emulator}, before it runs. */
    static RuntimeViews attach(Emulator emulator, Path binary, Request request, PrintStream err) throws GuestOptions.Refused {
        RuntimeViews views = new RuntimeViews(err);
        GoProgram program;
        try {
            program = GoProgram.open(binary);
        } catch (BadBinaryException | GoFormatException e) {
            views.unavailable(request, e.getMessage());
            return views;
        }
        Optional<RuntimeLayout> layout = program.layout();
        if (layout.isEmpty()) {
            views.unavailable(request, program.layoutProblem().orElseThrow());
            return views;
        }
        try {
            if (request.schedPeriodNanos() > 0) views.startSchedTrace(emulator, program, layout.get(), request);
            if (request.goroutineTrace().isPresent()) {
                views.startGoroutineTrace(emulator, program, layout.get(), request.goroutineTrace().get());
            }
        } catch (GuestOptions.Refused e) {
            views.close();
            throw e;
        }
        return views;
    }

    private void unavailable(Request request, String why) {
        if (request.schedPeriodNanos() > 0) err.println("goemu: --sched-trace unavailable: " + why);
        if (request.goroutineTrace().isPresent()) err.println("goemu: --trace-goroutines unavailable: " + why);
    }

    private void startSchedTrace(Emulator emulator, GoProgram program, RuntimeLayout layout, Request request) {
        SchedulerSnapshot.Reader reader;
        try {
            reader = new SchedulerSnapshot.Reader(layout);
        } catch (LayoutUnavailableException e) {
            err.println("goemu: --sched-trace unavailable: " + e.getMessage());
            return;
        }
        SchedTraceFormat format = SchedTraceFormat.of(layout, program.buildInfo().map(GoBuildInfo::goVersion));
        long start = emulator.monotonicNanos();
        registrations.add(emulator.every(request.schedPeriodNanos(), () -> {
            long millis = (emulator.monotonicNanos() - start) / 1_000_000;
            try {
                for (String line : format.lines(reader.read(emulator, request.schedDetail()), millis, request.schedDetail())) {
                    err.println("goemu: " + line);
                }
            } catch (GuestFault e) {
                err.println("goemu: SCHED " + millis + "ms: the scheduler's state is unreadable right now ("
                        + e.getMessage() + ")");
            }
        }));
    }

    private void startGoroutineTrace(Emulator emulator, GoProgram program, RuntimeLayout layout, Path file)
            throws GuestOptions.Refused {
        Path chrome = chromeTracePath(file);
        Writer lines = null, trace = null;
        try {
            lines = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            trace = Files.newBufferedWriter(chrome, StandardCharsets.UTF_8);
            GoroutineEvent.Sink both = new Tee(new GoroutineJsonLines(lines),
                    new GoroutineChromeTrace(trace, emulator.monotonicNanos()));
            tracer = GoroutineTracer.attach(emulator, program.symbols(), layout, both);
            jsonLines = file;
            chromeTrace = chrome;
        } catch (IOException e) {
            closeQuietly(lines, trace);
            String why = switch (e) {
                case NoSuchFileException x -> x.getFile() + ": no such directory";
                case AccessDeniedException x -> x.getFile() + ": permission denied";
                default -> e.getMessage();
            };
            throw new GuestOptions.Refused(2, "--trace-goroutines: cannot write " + why);
        } catch (LayoutUnavailableException | DisassemblerUnavailableException e) {
            closeQuietly(lines, trace);
            deleteQuietly(file, chrome);
            err.println("goemu: --trace-goroutines unavailable: " + e.getMessage());
        }
    }

    /** Removes every hook; finishes the trace files and says where they are. */
    @Override
    public void close() {
        registrations.forEach(Debuggee.Registration::close);
        registrations.clear();
        if (tracer == null) return;
        try {
            tracer.close();
            String dropped = tracer.unreadable() > 0 ? " (" + tracer.unreadable() + " dropped: goroutine unreadable)" : "";
            err.println("goemu: goroutine trace: " + tracer.events() + " events" + dropped + " in " + jsonLines
                    + " (JSON Lines) and " + chromeTrace + " (open in https://ui.perfetto.dev or chrome://tracing)");
        } catch (IOException e) {
            err.println("goemu: --trace-goroutines: writing the trace failed: " + e.getMessage());
        }
        tracer = null;
    }

    private static void closeQuietly(Writer... writers) {
        for (Writer w : writers) {
            if (w == null) continue;
            try {
                w.close();
            } catch (IOException ignored) {
                // already failing: the first error is the one reported
            }
        }
    }

    private static void deleteQuietly(Path... files) {
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // an empty file left behind is all that happens
            }
        }
    }

    /** Sends every event to both outputs. */
    private record Tee(GoroutineEvent.Sink a, GoroutineEvent.Sink b) implements GoroutineEvent.Sink {
        @Override
        public void accept(GoroutineEvent event) throws IOException {
            a.accept(event);
            b.accept(event);
        }

        @Override
        public void finish(long timeNanos) throws IOException {
            a.finish(timeNanos);
            b.finish(timeNanos);
        }

        @Override
        public void close() throws IOException {
            try {
                a.close();
            } finally {
                b.close();
            }
        }
    }
}
