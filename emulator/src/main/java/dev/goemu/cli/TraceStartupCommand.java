package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.hooks.Debuggee;
import dev.goemu.hooks.GoProgram;
import dev.goemu.hooks.StartupTracer;
import dev.goemu.loader.BadBinaryException;

import java.util.List;

final class TraceStartupCommand implements Cli.Command {
    private String until = "main.main";
    private int depth = 0;
    private final GuestOptions guest = new GuestOptions();

    @Override
    public String description() {
        return "Run a Go binary and print the runtime's start-up chain as it happens (_rt0_amd64_linux, rt0_go, schedinit, "
                + "newproc, mstart, schedule, runtime.main, package inits, main.main), with the TLS, g0/m0, Ps and first "
                + "goroutine.";
    }

    @Override
    public List<Cli.Option> options() {
        return guest.options(
                new Cli.Option("--until", "FUNCTION", "Stop when this function is entered (default: " + until + ").",
                        v -> until = v),
                new Cli.Option("--depth", "N", "Also show calls up to N levels below each milestone (default: " + depth
                        + ").", v -> depth = Cli.intValue("--depth", v)));
    }

    @Override
    public int call(List<String> operands) throws GuestOptions.Refused, BadBinaryException {
        if (depth < 0) throw new GuestOptions.Refused(2, "--depth must be 0 or more");
        Emulator.Options options = guest.emulatorOptions(operands, null);
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
    }
}
