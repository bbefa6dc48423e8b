package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.emulator.GuestCrash;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.unicorn.UnicornException;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What every command that starts a guest takes (a picocli mixin): the binary, its arguments, --cpus, --time-slice and --env. */
final class GuestOptions {
    @Option(names = "--cpus", paramLabel = "N", description = "CPUs the guest sees (sched_getaffinity, runtime.NumCPU). Default: the host's, ${DEFAULT-VALUE}.")
    int cpus = Runtime.getRuntime().availableProcessors();

    @Option(names = "--time-slice", paramLabel = "DURATION", description = "How long a guest thread may run before goemu "
            + "switches to another runnable one (Linux's slices are a few ms). Default: ${DEFAULT-VALUE}; at least 10us. Short "
            + "slices stress the guest's scheduling and goemu's thread switches.")
    String timeSlice = "2ms";

    @Option(names = "--env", paramLabel = "KEY=VALUE", description = "Set a variable in the guest's environment (repeatable); the rest is goemu's own environment.")
    List<String> env = new ArrayList<>();

    /** Shorter slices would spend the run switching: the timer thread cannot wake much more often anyway. */
    private static final long MIN_TIME_SLICE_NANOS = 10_000;

    @Parameters(index = "0", paramLabel = "BINARY", description = "The static Go binary.")
    Path binary;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "Arguments for the guest.")
    List<String> args = new ArrayList<>();

    /** A mistake on the command line or a binary that cannot run: the message and exit status for the user. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** The emulator options these arguments ask for; {@code strace} is where --strace output goes, or null. */
    Emulator.Options emulatorOptions(PrintStream strace) throws Refused {
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
        List<String> argv = new ArrayList<>();
        argv.add(binary.toString());
        argv.addAll(args);
        long slice = RuntimeViews.parseDuration("--time-slice", timeSlice, MIN_TIME_SLICE_NANOS);
        return new Emulator.Options(binary, argv, envp, cpus, strace, slice);
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
