package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.emulator.GuestCrash;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.syscalls.Determinism;
import dev.goemu.syscalls.Host;
import dev.goemu.syscalls.Sys;
import dev.goemu.unicorn.UnicornException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code goemu explore}: a race finder. Runs the program deterministically under many seeds, several at once in
 * this JVM (one engine each, each with its own stdin, stdout and stderr), and groups the runs by outcome (exit
 * status, stdout, stderr): one line per outcome with how many seeds gave it, the first of them, and the command
 * that reproduces it.
 */
final class ExploreCommand implements Cli.Command {
    private static final int SIGKILL = 9;
    private final GuestOptions guest = new GuestOptions();
    private long firstSeed = 0;
    private long lastSeed = 99;
    private Integer runs;
    private String seeds;
    private int jobs = Runtime.getRuntime().availableProcessors();
    private String timeout = "60s";
    private boolean untilFailure;

    @Override
    public String description() {
        return "Run a program deterministically under many seeds and group the outcomes (a race finder).";
    }

    @Override
    public List<Cli.Option> options() {
        return guest.options(
                new Cli.Option("--runs", "N", "How many seeds: 0 to N-1 (default 100).", v -> runs = Cli.intValue("--runs", v)),
                new Cli.Option("--seeds", "A..B", "The seeds A to B, inclusive (instead of --runs).", v -> seeds = v),
                new Cli.Option("--jobs", "J", "Runs at once, each on its own engine in this JVM (default: the host's CPUs, "
                        + jobs + ").", v -> jobs = Cli.intValue("--jobs", v)),
                new Cli.Option("--timeout", "DURATION", "Wall time a run may take before it is killed, which makes its "
                        + "outcome 'timeout' (default 60s).", v -> timeout = v),
                Cli.Option.flag("--until-failure", "Stop at the first run that fails (exit status not 0, or a timeout).",
                        () -> untilFailure = true));
    }

    /** One run's result; runs with equal outcomes are grouped. */
    private record Outcome(int status, boolean timedOut, String stdout, String stderr) {
        boolean failed() {
            return status != 0 || timedOut;
        }

        String describe() {
            String what = timedOut ? "timeout" : "exit " + status;
            String line = stderr.lines().filter(l -> !l.isBlank()).findFirst().orElse("");
            if (line.isEmpty()) line = stdout.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("");
            if (line.length() > 60) line = line.substring(0, 57) + "...";
            return line.isEmpty() ? what : what + ": " + line;
        }
    }

    @Override
    public int call(List<String> operands) throws GuestOptions.Refused, BadBinaryException {
        if (seeds != null && runs != null) throw new GuestOptions.Refused(2, "give --runs or --seeds, not both");
        if (seeds != null) parseSeeds(seeds);
        else if (runs != null) {
            if (runs < 1) throw new GuestOptions.Refused(2, "--runs must be at least 1");
            lastSeed = runs - 1;
        }
        if (jobs < 1 || jobs > 256) throw new GuestOptions.Refused(2, "--jobs must be between 1 and 256");
        long timeoutNanos = RuntimeViews.parseDuration("--timeout", timeout, 1_000_000);
        Determinism template = Objects.requireNonNullElseGet(guest.determinism(),
                () -> new Determinism(0, Determinism.DEFAULT_EPOCH_NANOS, new Determinism.Strategy.Random()));
        guest.emulatorOptions(operands, null, template, null); // refuses a bad binary or option before any run

        Map<Outcome, List<Long>> outcomes = new LinkedHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(jobs, r -> Thread.ofPlatform().name("goemu-explore").daemon().unstarted(r));
        try {
            // Submitted in order and collected in order: the table (first seeds, counts) does not depend on timing.
            List<Future<Outcome>> results = new ArrayList<>();
            for (long seed = firstSeed; seed <= lastSeed; seed++) {
                Determinism det = new Determinism(seed, template.epochNanos(), template.strategy());
                results.add(pool.submit(() -> stop.get() ? null : runOnce(operands, det, timeoutNanos)));
            }
            long seed = firstSeed;
            int done = 0;
            for (Future<Outcome> f : results) {
                Outcome o = get(f);
                if (o == null) break;
                outcomes.computeIfAbsent(o, x -> new ArrayList<>()).add(seed);
                done++;
                if (o.failed() && untilFailure) {
                    stop.set(true);
                    break;
                }
                seed++;
            }
            print(System.out, outcomes, done, operands);
        } finally {
            pool.shutdownNow();
        }
        return outcomes.keySet().stream().anyMatch(Outcome::failed) ? 1 : 0;
    }

    private void parseSeeds(String v) throws GuestOptions.Refused {
        String[] ab = v.split("\\.\\.", -1);
        if (ab.length != 2) throw new GuestOptions.Refused(2, "--seeds wants A..B, got '" + v + "'");
        firstSeed = Cli.longValue("--seeds", ab[0]);
        lastSeed = Cli.longValue("--seeds", ab[1]);
        if (lastSeed < firstSeed || lastSeed - firstSeed >= 1_000_000) {
            throw new GuestOptions.Refused(2, "--seeds A..B wants A <= B and at most a million seeds, got '" + v + "'");
        }
    }

    private static Outcome get(Future<Outcome> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** One deterministic run with its own stdin (empty), stdout and stderr (memory files read back afterwards). */
    private Outcome runOnce(List<String> operands, Determinism det, long timeoutNanos) throws Exception {
        int[] mine = new int[3];
        List<Integer> guestFds = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            mine[i] = memfd();
            guestFds.add((int) Host.syscall(Sys.DUP.nr, mine[i], 0, 0)); // the guest's table closes its own copies
        }
        ByteArrayOutputStream crashes = new ByteArrayOutputStream();
        try (Emulator emulator = new Emulator(guest.emulatorOptions(operands, null, det, guestFds));
             var killer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r))) {
            AtomicBoolean timedOut = new AtomicBoolean();
            killer.schedule(() -> {
                timedOut.set(true);
                emulator.forwardHostSignal(SIGKILL);
            }, timeoutNanos, TimeUnit.NANOSECONDS);
            int status;
            try {
                status = emulator.runProcess(new PrintStream(crashes, true, StandardCharsets.UTF_8));
            } catch (GuestCrash | UnicornException e) {
                crashes.writeBytes(("goemu: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
                status = 1;
            }
            killer.shutdownNow();
            return new Outcome(status, timedOut.get(), read(mine[1]), read(mine[2]) + crashes.toString(StandardCharsets.UTF_8));
        } finally {
            for (int fd : mine) Host.syscall(Sys.CLOSE.nr, fd, 0, 0);
        }
    }

    private static int memfd() {
        try (Arena arena = Arena.ofConfined()) {
            long fd = Host.syscall(Sys.MEMFD_CREATE.nr, arena.allocateFrom("goemu-explore").address(), 1 /* MFD_CLOEXEC */, 0);
            if (fd < 0) throw new IllegalStateException("memfd_create: errno " + -fd);
            return (int) fd;
        }
    }

    private static String read(int fd) throws IOException {
        return Files.readString(Path.of("/proc/self/fd/" + fd), StandardCharsets.UTF_8);
    }

    private void print(PrintStream out, Map<Outcome, List<Long>> outcomes, int done, List<String> operands) {
        out.printf("%d runs, %d outcome%s%n", done, outcomes.size(), outcomes.size() == 1 ? "" : "s");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"OUTCOME", "SEEDS", "FIRST", "REPRODUCE"});
        for (Map.Entry<Outcome, List<Long>> e : outcomes.entrySet()) {
            long first = e.getValue().getFirst();
            rows.add(new String[] {e.getKey().describe(), Integer.toString(e.getValue().size()), Long.toString(first),
                    reproduce(first, operands)});
        }
        int[] width = new int[3];
        for (String[] r : rows) for (int i = 0; i < 3; i++) width[i] = Math.max(width[i], r[i].length());
        for (String[] r : rows) out.printf("%-" + width[0] + "s  %" + width[1] + "s  %" + width[2] + "s  %s%n", (Object[]) r);
    }

    /** The goemu command that runs this seed again, with the same guest options. */
    private String reproduce(long seed, List<String> operands) {
        List<String> cmd = new ArrayList<>(List.of("goemu", "run", "--seed", Long.toString(seed)));
        cmd.addAll(guest.givenOptions());
        cmd.add("--");
        cmd.addAll(operands);
        return String.join(" ", cmd.stream().map(ExploreCommand::shellQuote).toList());
    }

    static String shellQuote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:=@%+,-]+")) return s;
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
