package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.loader.BadBinaryException;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

final class RunCommand implements Cli.Command {
    private boolean strace;
    private String schedTrace;
    private boolean schedDetail;
    private Path traceGoroutines;
    private final GuestOptions guest = new GuestOptions();

    @Override
    public String description() {
        return "Run a static linux/amd64 Go binary; its stdin, stdout, stderr and exit status are yours.";
    }

    @Override
    public List<Cli.Option> options() {
        return guest.options(
                Cli.Option.flag("--strace", "Trace every syscall on stderr, strace-style.", () -> strace = true),
                new Cli.Option("--sched-trace", "DURATION", "Every DURATION of guest time (500ms, 1s, 2.5s), print the "
                        + "scheduler's state on stderr as GODEBUG=schedtrace would, read from outside the program: "
                        + "'goemu: SCHED 1000ms: gomaxprocs=...'.", v -> schedTrace = v),
                Cli.Option.flag("--sched-detail", "With --sched-trace, also print each P, M and G, as GODEBUG=scheddetail=1 "
                        + "would.", () -> schedDetail = true),
                new Cli.Option("--trace-goroutines", "FILE", "Record every goroutine's creation and status change in FILE "
                        + "(JSON Lines), and a timeline per P, M and goroutine in FILE.trace.json (FILE minus a .jsonl "
                        + "suffix), for https://ui.perfetto.dev or chrome://tracing.", v -> traceGoroutines = Path.of(v)));
    }

    @Override
    public int call(List<String> operands) throws GuestOptions.Refused, BadBinaryException {
        if (schedDetail && schedTrace == null) throw new GuestOptions.Refused(2, "--sched-detail needs --sched-trace DURATION");
        long period = schedTrace == null ? 0 : RuntimeViews.parseDuration("--sched-trace", schedTrace, RuntimeViews.MIN_PERIOD_NANOS);
        RuntimeViews.Request views = new RuntimeViews.Request(period, schedDetail, Optional.ofNullable(traceGoroutines));
        Emulator.Options options = guest.emulatorOptions(operands, strace ? System.err : null);
        try (Emulator emulator = new Emulator(options)) {
            forwardHostSignals(emulator);
            if (!views.any()) return emulator.runProcess(null); // a plain run: no Go symbols read, no hooks
            try (RuntimeViews attached = RuntimeViews.attach(emulator, options.binary(), views, System.err)) {
                return emulator.runProcess(null);
            }
        }
    }

    /** Signals sent to goemu (Ctrl-C, kill) go to the guest, as if sent to it; the JVM keeps the ones it needs. */
    @SuppressWarnings("restriction")
    private static void forwardHostSignals(Emulator emulator) {
        for (String name : new String[] {"INT", "TERM", "HUP", "USR1", "WINCH", "PIPE", "ALRM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> emulator.forwardHostSignal(s.getNumber()));
            } catch (IllegalArgumentException taken) {
                // reserved by the JVM on this platform: it keeps its default meaning
            }
        }
    }
}
