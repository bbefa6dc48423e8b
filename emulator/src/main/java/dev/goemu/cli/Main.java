package dev.goemu.cli;

import dev.goemu.unicorn.Unicorn;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The goemu command line. Every user mistake ends in one clear line and a non-zero status, never a stack trace. */
@Command(name = "goemu", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs static x86-64 Linux Go binaries on the Unicorn CPU emulator, with a Linux kernel written in Java.",
        subcommands = {RunCommand.class, InfoCommand.class, TraceStartupCommand.class, DebugCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String[] args) {
        return new CommandLine(new Main())
                .setStopAtPositional(true) // everything after the binary belongs to the guest
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    System.err.println("goemu: internal error: " + e);
                    if (System.getenv("GOEMU_DEBUG") != null) e.printStackTrace();
                    else System.err.println("goemu: set GOEMU_DEBUG=1 to see the Java stack trace");
                    return 70;
                })
                .execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try 'goemu run BINARY [ARGS...]'");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String unicorn;
            try {
                unicorn = "Unicorn " + Unicorn.libraryVersion() + " (" + Unicorn.libraryPath() + ")";
            } catch (RuntimeException e) {
                unicorn = "Unicorn: unavailable: " + e.getMessage();
            }
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"goemu " + (version == null ? "dev" : version), unicorn, "Java " + Runtime.version()};
        }
    }
}
