package dev.goemu.cli;

import dev.goemu.cli.GuestOptions.Refused;
import dev.goemu.loader.BadBinaryException;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * goemu's command-line parsing and help, by hand: picocli built its model by reflection on every start (0.2 s, more
 * than the rest of a hello-world run) and its Java 5 class files cannot go into the JDK's AOT cache.
 *
 * <p>Options come first, as {@code --name VALUE} or {@code --name=VALUE}; the first other argument (or {@code --})
 * ends them, so everything after the binary belongs to the guest.
 */
final class Cli {
    private static final int WIDTH = 80;
    /** Option and parameter names longer than this get their description on the next line. */
    private static final int MAX_NAME_COLUMN = 24;

    private Cli() {}

    /** Takes an option's value (null for a flag), refusing a bad one. */
    interface Setter {
        void set(String value) throws Refused;
    }

    /** {@code --name VALUE} (shown as {@code --name=LABEL}), or a flag when {@code label} is null. */
    record Option(String name, String label, String description, Setter setter) {
        static Option flag(String name, String description, Runnable set) {
            return new Option(name, null, description, v -> set.run());
        }
    }

    /** A positional parameter; {@code rest} takes every argument left ({@code [ARGS...]}). */
    record Param(String label, String description, boolean rest) {}

    /** A goemu command: what it takes, and what it does with its positional arguments. */
    interface Command {
        String description();

        List<Option> options();

        /** The binary and its arguments, unless the command takes something else. */
        default List<Param> params() {
            return GuestOptions.PARAMS;
        }

        int call(List<String> operands) throws Refused, BadBinaryException;
    }

    /** Runs {@code command} on its arguments, or prints its help for -h/--help. */
    static int parseAndCall(String name, Command command, List<String> args) throws Refused, BadBinaryException {
        int i = 0;
        for (; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.equals("-")) break;
            if (a.equals("-h") || a.equals("--help")) {
                printHelp(System.out, name, command);
                return 0;
            }
            int eq = a.indexOf('=');
            String key = eq < 0 ? a : a.substring(0, eq);
            Option o = command.options().stream().filter(x -> x.name().equals(key)).findFirst()
                    .orElseThrow(() -> new Refused(2, "unknown option '" + key + "' for '" + name + "' (see 'goemu help " + name + "')"));
            if (o.label() == null) {
                if (eq >= 0) throw new Refused(2, key + " takes no value");
                o.setter().set(null);
            } else if (eq >= 0) {
                o.setter().set(a.substring(eq + 1));
            } else if (++i < args.size()) {
                o.setter().set(args.get(i));
            } else {
                throw new Refused(2, key + " needs a value (" + o.label() + ")");
            }
        }
        List<String> operands = args.subList(i, args.size());
        List<Param> params = command.params();
        boolean rest = !params.isEmpty() && params.getLast().rest();
        int required = rest ? params.size() - 1 : params.size();
        if (operands.size() < required) {
            throw new Refused(2, "missing " + params.get(operands.size()).label() + " (see 'goemu help " + name + "')");
        }
        if (!rest && operands.size() > required) throw new Refused(2, "unexpected argument '" + operands.get(required) + "'");
        return command.call(operands);
    }

    /** The value of an integer option. */
    static int intValue(String option, String value) throws Refused {
        long v = longValue(option, value);
        if (v != (int) v) throw new Refused(2, option + " wants a number, got '" + value + "'");
        return (int) v;
    }

    /** The value of a 64-bit integer option. */
    static long longValue(String option, String value) throws Refused {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new Refused(2, option + " wants a number, got '" + value + "'");
        }
    }

    static void printHelp(PrintStream out, String name, Command command) {
        StringBuilder usage = new StringBuilder("Usage: goemu " + name);
        if (!command.options().isEmpty()) usage.append(" [OPTIONS]");
        for (Param p : command.params()) usage.append(p.rest() ? " [" + p.label() + "...]" : " " + p.label());
        out.println(usage);
        wrap(out, "", command.description(), 0);
        out.println();
        List<String[]> rows = new ArrayList<>();
        for (Param p : command.params()) rows.add(new String[] {p.label(), p.description()});
        for (Option o : command.options()) rows.add(new String[] {o.label() == null ? o.name() : o.name() + "=" + o.label(), o.description()});
        rows.add(new String[] {"-h, --help", "Show this help."});
        printTable(out, rows);
    }

    /** Two columns, names and descriptions, the descriptions wrapped to the terminal width. */
    static void printTable(PrintStream out, List<String[]> rows) {
        int column = 0;
        for (String[] r : rows) if (r[0].length() <= MAX_NAME_COLUMN) column = Math.max(column, r[0].length());
        int indent = column + 4;
        for (String[] r : rows) {
            String name = "  " + r[0];
            if (r[0].length() > column) {
                out.println(name);
                name = "";
            }
            wrap(out, name + " ".repeat(indent - name.length()), r[1], indent);
        }
    }

    /** Prints {@code prefix} then {@code text} word-wrapped at {@link #WIDTH}, the next lines indented by {@code indent}. */
    static void wrap(PrintStream out, String prefix, String text, int indent) {
        StringBuilder line = new StringBuilder(prefix);
        boolean empty = true;
        for (String word : text.split(" ")) {
            if (!empty && line.length() + 1 + word.length() > WIDTH) {
                out.println(line);
                line = new StringBuilder(" ".repeat(indent));
                empty = true;
            }
            if (!empty) line.append(' ');
            line.append(word);
            empty = false;
        }
        out.println(line);
    }
}
