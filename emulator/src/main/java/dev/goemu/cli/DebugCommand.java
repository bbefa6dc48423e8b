package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.hooks.Debugger;
import dev.goemu.hooks.GoProgram;
import dev.goemu.loader.BadBinaryException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

final class DebugCommand implements Cli.Command {
    private Path commands;
    private final GuestOptions guest = new GuestOptions();

    @Override
    public String description() {
        return "Step through a Go binary: breakpoints on Go functions, stepi/nexti/step/finish, registers with FS and g, "
                + "memory, disassembly, Go backtraces, goroutines and runtime globals. Commands come from the terminal, "
                + "from stdin, or from --commands FILE; 'help' lists them.";
    }

    @Override
    public List<Cli.Option> options() {
        return guest.options(new Cli.Option("--commands", "FILE",
                "Run the commands in FILE (one per line) instead of reading stdin.", v -> commands = Path.of(v)));
    }

    @Override
    public int call(List<String> operands) throws GuestOptions.Refused, BadBinaryException {
        Emulator.Options options = guest.emulatorOptions(operands, null);
        if (commands != null && !Files.isReadable(commands)) throw new GuestOptions.Refused(2, "cannot read --commands file " + commands);
        GoProgram program = GoProgram.open(options.binary());
        boolean script = commands != null || System.console() == null;
        try (Emulator emulator = new Emulator(options);
             BufferedReader in = commands != null ? Files.newBufferedReader(commands, StandardCharsets.UTF_8)
                     : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            return new Debugger(emulator, program, System.out, script).run(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
