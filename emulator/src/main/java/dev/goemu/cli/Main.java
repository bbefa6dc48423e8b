package dev.goemu.cli;

import dev.goemu.loader.BadBinaryException;
import dev.goemu.unicorn.Unicorn;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The goemu command line. Every user mistake ends in one clear line and a non-zero status, never a stack trace. */
public final class Main {
    private static final String DESCRIPTION =
            "Runs static x86-64 Linux Go binaries on the Unicorn CPU emulator, with a Linux kernel written in Java.";

    /** Suppliers, so that a run loads only its own command's classes. */
    private static final Map<String, Supplier<Cli.Command>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("run", RunCommand::new);
        COMMANDS.put("explore", ExploreCommand::new);
        COMMANDS.put("info", InfoCommand::new);
        COMMANDS.put("trace-startup", TraceStartupCommand::new);
        COMMANDS.put("debug", DebugCommand::new);
    }

    private Main() {}

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String[] args) {
        try {
            return GuestOptions.guarded(() -> dispatch(Arrays.asList(args)));
        } catch (RuntimeException e) {
            System.err.println("goemu: internal error: " + e);
            if (System.getenv("GOEMU_DEBUG") != null) e.printStackTrace();
            else System.err.println("goemu: set GOEMU_DEBUG=1 to see the Java stack trace");
            return 70;
        }
    }

    private static int dispatch(List<String> args) throws GuestOptions.Refused, BadBinaryException {
        if (args.isEmpty()) throw new GuestOptions.Refused(2, "missing command: try 'goemu run BINARY [ARGS...]' or 'goemu --help'");
        String first = args.getFirst();
        switch (first) {
            case "-h", "--help" -> {
                printHelp(System.out);
                return 0;
            }
            case "-V", "--version" -> {
                for (String line : version()) System.out.println(line);
                return 0;
            }
            case "help" -> {
                if (args.size() == 1) printHelp(System.out);
                else Cli.printHelp(System.out, args.get(1), command(args.get(1)));
                return 0;
            }
            default -> {
                return Cli.parseAndCall(first, command(first), args.subList(1, args.size()));
            }
        }
    }

    private static Cli.Command command(String name) throws GuestOptions.Refused {
        Supplier<Cli.Command> c = COMMANDS.get(name);
        if (c == null) throw new GuestOptions.Refused(2, "unknown command '" + name + "' (see 'goemu --help')");
        return c.get();
    }

    private static void printHelp(PrintStream out) {
        out.println("Usage: goemu COMMAND [OPTIONS] [ARGS...]");
        Cli.wrap(out, "", DESCRIPTION, 0);
        out.println();
        out.println("Commands:");
        List<String[]> rows = new ArrayList<>();
        COMMANDS.forEach((name, c) -> rows.add(new String[] {name, c.get().description()}));
        rows.add(new String[] {"help [COMMAND]", "Show this help, or COMMAND's."});
        Cli.printTable(out, rows);
        out.println("Options:");
        Cli.printTable(out, List.of(new String[] {"-h, --help", "Show this help."},
                new String[] {"-V, --version", "Print version information."}));
    }

    private static List<String> version() {
        String unicorn;
        try {
            unicorn = "Unicorn " + Unicorn.libraryVersion() + " (" + Unicorn.libraryPath() + ")";
        } catch (RuntimeException e) {
            unicorn = "Unicorn: unavailable: " + e.getMessage();
        }
        String version = Main.class.getPackage().getImplementationVersion();
        return List.of("goemu " + (version == null ? "dev" : version), unicorn, "Java " + Runtime.version());
    }
}
