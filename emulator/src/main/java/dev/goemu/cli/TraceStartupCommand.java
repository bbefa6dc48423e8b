package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.hooks.Debuggee;
import dev.goemu.hooks.GoProgram;
import dev.goemu.hooks.StartupTracer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "trace-startup", description = "Run a Go binary and print the runtime's start-up chain as it happens "
        + "(_rt0_amd64_linux, rt0_go, schedinit, newproc, mstart, schedule, runtime.main, package inits, main.main), "
        + "with the TLS, g0/m0, Ps and first goroutine.")
final class TraceStartupCommand implements Callable<Integer> {
    @Option(names = "--until", paramLabel = "FUNCTION", description = "Stop when this function is entered (default: ${DEFAULT-VALUE}).")
    String until = "main.main";

    @Option(names = "--depth", paramLabel = "N", description = "Also show calls up to N levels below each milestone (default: ${DEFAULT-VALUE}).")
    int depth = 0;

    @Mixin
    GuestOptions guest;

    @Override
    public Integer call() {
        return GuestOptions.guarded(() -> {
            if (depth < 0) throw new GuestOptions.Refused(2, "--depth must be 0 or more");
            Emulator.Options options = guest.emulatorOptions(null);
            GoProgram program = GoProgram.open(options.binary());
            program.layoutProblem().ifPresent(p -> System.err.println("goemu: runtime state not shown: " + p));
            if (program.symbols().lookup(until).isEmpty()) {
                throw new GuestOptions.Refused(2, "--until: no function " + until + " in " + options.binary());
            }
            try (Emulator emulator = new Emulator(options)) {
                Debuggee.Stop stop = new StartupTracer(emulator, program.symbols(), program.layout(),
                        new StartupTracer.Options(until, depth), System.out).run();
                return switch (stop) {
                    case Debuggee.Stop.Paused p -> 0; // reached --until: the rest of the program is not run
                    case Debuggee.Stop.Exited e -> {
                        System.err.println("goemu: the program exited (status " + e.status() + ") before reaching " + until);
                        yield e.status();
                    }
                    case Debuggee.Stop.Crashed c -> GuestOptions.fail(c.status(), c.message());
                };
            }
        });
    }
}
