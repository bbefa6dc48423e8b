package dev.goemu.cli;

import dev.goemu.emulator.ChildPolicy;
import dev.goemu.emulator.Emulator;
import dev.goemu.emulator.GuestCrash;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.syscalls.Determinism;
import dev.goemu.unicorn.UnicornException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * What every command that starts a guest takes: the binary, its arguments, --cpus, --time-slice, --children, --env
 * and the deterministic mode's --deterministic, --seed, --epoch and --strategy.
 */
final class GuestOptions {
    /** --cpus, or null: the host's, or {@link Determinism#DEFAULT_CPUS} in deterministic mode. */
    private Integer cpus;
    private final List<String> env = new ArrayList<>();

    /** Shorter slices would spend the run switching: the timer thread cannot wake much more often anyway. */
    private static final long MIN_TIME_SLICE_NANOS = 10_000;
    private static final String DEFAULT_TIME_SLICE = "2ms";
    private String timeSlice = DEFAULT_TIME_SLICE;
    private ChildPolicy children = ChildPolicy.AUTO;
    private boolean deterministic;
    private long seed;
    private long epochNanos = Determinism.DEFAULT_EPOCH_NANOS;
    private Determinism.Strategy strategy = new Determinism.Strategy.Random();

    /** A guest command's options: its {@code own}, then the guest options above. */
    List<Cli.Option> options(Cli.Option... own) {
        List<Cli.Option> guest = List.of(
                new Cli.Option("--cpus", "N", "CPUs the guest sees (sched_getaffinity, runtime.NumCPU). Default: the host's, "
                        + Runtime.getRuntime().availableProcessors() + "; " + Determinism.DEFAULT_CPUS
                        + " with --deterministic.", v -> cpus = Cli.intValue("--cpus", v)),
                new Cli.Option("--time-slice", "DURATION", "How long a guest thread may run before goemu switches to another "
                        + "runnable one (Linux's slices are a few ms). Default: " + DEFAULT_TIME_SLICE + "; at least 10us. "
                        + "Short slices stress the guest's scheduling and goemu's thread switches. A deterministic run counts "
                        + "its slices in executed blocks instead.", v -> timeSlice = v),
                new Cli.Option("--children", "auto|native|emulated", "How programs the guest execs run: auto (default) "
                        + "emulates static x86-64 ELF programs in this JVM and runs the rest (dynamically linked, "
                        + "scripts) on the host; native runs everything on the host; emulated refuses what it cannot "
                        + "emulate (ENOEXEC).", v -> children = childPolicy(v)),
                new Cli.Option("--env", "KEY=VALUE", "Set a variable in the guest's environment (repeatable); the rest is "
                        + "goemu's own environment.", env::add),
                Cli.Option.flag("--deterministic", "Reproducible run: the same binary, arguments, environment, inputs "
                        + "and seed give the same output, exit status and --strace output. Time is virtual (it advances "
                        + "with guest work and jumps over sleeps), threads switch only at syscalls and after a number "
                        + "of translated blocks drawn from the seed, random bytes and ids come from the seed, limits "
                        + "and what Go reads of the machine are fixed; emulated child processes take turns with their "
                        + "parent, and --strace marks each call whose result the host decided.",
                        () -> deterministic = true),
                new Cli.Option("--seed", "N", "The deterministic run's seed (implies --deterministic). Default: 0.", v -> {
                    seed = Cli.longValue("--seed", v);
                    deterministic = true;
                }),
                new Cli.Option("--epoch", "TIME", "CLOCK_REALTIME at the start of a deterministic run, in seconds since "
                        + "1970 or as 2024-01-01T00:00:00Z (implies --deterministic). Default: 2024-01-01T00:00:00Z.", v -> {
                    epochNanos = epoch(v);
                    deterministic = true;
                }),
                new Cli.Option("--strategy", "random|pct[:D[:K]]", "How a deterministic run's seed picks the schedule "
                        + "(implies --deterministic): random (default) chooses the next thread and the slice length "
                        + "uniformly; pct is PCT (Burckhardt et al., ASPLOS 2010): random thread priorities with D-1 "
                        + "priority change points (default D=3) among the first K scheduling decisions (default 10000).",
                        v -> {
                            strategy = strategy(v);
                            deterministic = true;
                        }));
        List<Cli.Option> options = new ArrayList<>(List.of(own));
        for (Cli.Option o : guest) options.add(recorded(o));
        return options;
    }

    /** Options as given, in order (but --deterministic and --seed), for a command that reproduces a run. */
    private final List<String> given = new ArrayList<>();

    private Cli.Option recorded(Cli.Option o) {
        if (o.name().equals("--deterministic") || o.name().equals("--seed")) return o;
        return new Cli.Option(o.name(), o.label(), o.description(), v -> {
            o.setter().set(v);
            given.add(o.name());
            if (v != null) given.add(v);
        });
    }

    /** The guest options given on the command line, as arguments, but --deterministic and --seed. */
    List<String> givenOptions() {
        return List.copyOf(given);
    }

    private static long epoch(String v) throws Refused {
        try {
            if (v.matches("-?[0-9]+")) return Math.multiplyExact(Long.parseLong(v), 1_000_000_000L);
            Instant t = Instant.parse(v);
            return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw new Refused(2, "--epoch wants seconds since 1970 or a time like 2024-01-01T00:00:00Z, got '" + v + "'");
        }
    }

    static Determinism.Strategy strategy(String v) throws Refused {
        if (v.equals("random")) return new Determinism.Strategy.Random();
        String[] parts = v.split(":", -1);
        if (!parts[0].equals("pct") || parts.length > 3) {
            throw new Refused(2, "--strategy wants random or pct[:D[:K]], got '" + v + "'");
        }
        int depth = parts.length > 1 ? Cli.intValue("--strategy pct:D", parts[1]) : 3;
        int steps = parts.length > 2 ? Cli.intValue("--strategy pct:D:K", parts[2]) : 10_000;
        if (depth < 1 || depth > 100 || steps < 1) {
            throw new Refused(2, "--strategy pct:D:K wants D between 1 and 100 and K at least 1, got '" + v + "'");
        }
        return new Determinism.Strategy.Pct(depth, steps);
    }

    /** The deterministic run's settings, or null. */
    Determinism determinism() {
        return deterministic ? new Determinism(seed, epochNanos, strategy) : null;
    }

    private static ChildPolicy childPolicy(String v) throws Refused {
        return switch (v) {
            case "auto" -> ChildPolicy.AUTO;
            case "native" -> ChildPolicy.NATIVE;
            case "emulated" -> ChildPolicy.EMULATED;
            default -> throw new Refused(2, "--children wants auto, native or emulated, got '" + v + "'");
        };
    }

    static final List<Cli.Param> PARAMS = List.of(
            new Cli.Param("BINARY", "The static Go binary.", false),
            new Cli.Param("ARGS", "Arguments for the guest.", true));

    /** A mistake on the command line or a binary that cannot run: the message and exit status for the user. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /**
     * The emulator options these arguments ask for: {@code operands} are the binary and its arguments, {@code strace}
     * is where --strace output goes, or null.
     */
    Emulator.Options emulatorOptions(List<String> operands, PrintStream strace) throws Refused {
        return emulatorOptions(operands, strace, determinism(), null);
    }

    /** As {@link #emulatorOptions(List, PrintStream)}, with the deterministic settings and guest stdio fds given. */
    Emulator.Options emulatorOptions(List<String> operands, PrintStream strace, Determinism det, List<Integer> stdio)
            throws Refused {
        Path binary = Path.of(operands.getFirst());
        int cpus = this.cpus != null ? this.cpus
                : det != null ? Determinism.DEFAULT_CPUS : Runtime.getRuntime().availableProcessors();
        if (cpus < 1 || cpus > 1024) throw new Refused(2, "--cpus must be between 1 and 1024");
        if (!Files.exists(binary)) throw new Refused(127, "no such file: " + binary);
        List<String> envp = environment();
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new Refused(2, "--env wants KEY=VALUE, got '" + kv + "'");
            String key = kv.substring(0, eq + 1);
            envp.removeIf(e -> e.startsWith(key));
            envp.add(kv);
        }
        List<String> argv = new ArrayList<>(operands);
        argv.set(0, binary.toString());
        long slice = RuntimeViews.parseDuration("--time-slice", timeSlice, MIN_TIME_SLICE_NANOS);
        return new Emulator.Options(binary, argv, envp, cpus, strace, slice, children, det, stdio);
    }

    /** A command body that may refuse or fail the way every goemu command reports it. */
    interface Body {
        int run() throws Refused, BadBinaryException;
    }

    /** Runs {@code body}, turning user mistakes, bad binaries and guest crashes into one line and an exit status. */
    static int guarded(Body body) {
        try {
            return body.run();
        } catch (Refused e) {
            return fail(e.status, e.getMessage());
        } catch (BadBinaryException e) {
            return fail(126, e.getMessage());
        } catch (GuestCrash e) {
            return fail(e.exitStatus(), e.getMessage());
        } catch (UnicornException e) {
            return fail(1, e.getMessage());
        }
    }

    static int fail(int status, String message) {
        System.err.println("goemu: " + message);
        return status;
    }

    /** goemu's environment in its original order (System.getenv() loses the order, os.Environ() shows it). */
    private static List<String> environment() {
        List<String> out = new ArrayList<>();
        try {
            String all = Files.readString(Path.of("/proc/self/environ"), StandardCharsets.UTF_8);
            for (String e : all.split("\0")) if (!e.isEmpty()) out.add(e);
        } catch (IOException e) {
            System.getenv().forEach((k, v) -> out.add(k + "=" + v));
        }
        return out;
    }
}
