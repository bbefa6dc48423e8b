package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.emulator.GuestCrash;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.unicorn.UnicornException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "run", description = "Run a static linux/amd64 Go binary; its stdin, stdout, stderr and exit status are yours.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--strace", description = "Trace every syscall on stderr, strace-style.")
    boolean strace;

    @Option(names = "--cpus", paramLabel = "N", description = "CPUs the guest sees (sched_getaffinity, runtime.NumCPU). Default: the host's, ${DEFAULT-VALUE}.")
    int cpus = Runtime.getRuntime().availableProcessors();

    @Option(names = "--env", paramLabel = "KEY=VALUE", description = "Set a variable in the guest's environment (repeatable); the rest is goemu's own environment.")
    List<String> env = new ArrayList<>();

    @Parameters(index = "0", paramLabel = "BINARY", description = "The static Go binary.")
    Path binary;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "Arguments for the guest.")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        if (cpus < 1 || cpus > 1024) return fail(2, "--cpus must be between 1 and 1024");
        if (!Files.exists(binary)) return fail(127, "no such file: " + binary);
        List<String> envp = environment();
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq <= 0) return fail(2, "--env wants KEY=VALUE, got '" + kv + "'");
            String key = kv.substring(0, eq + 1);
            envp.removeIf(e -> e.startsWith(key));
            envp.add(kv);
        }
        List<String> argv = new ArrayList<>();
        argv.add(binary.toString());
        argv.addAll(args);
        try (Emulator emulator = new Emulator(new Emulator.Options(binary, argv, envp, cpus, strace ? System.err : null))) {
            forwardHostSignals(emulator);
            return emulator.run();
        } catch (BadBinaryException e) {
            return fail(126, e.getMessage());
        } catch (GuestCrash e) {
            return fail(e.exitStatus(), e.getMessage());
        } catch (UnicornException e) {
            return fail(1, e.getMessage());
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

    private static int fail(int status, String message) {
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
