package dev.goemu.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Option parsing and help of the hand-written command line, on a command that records what it was given. */
class CliTest {
    private static final class Recorder implements Cli.Command {
        boolean flag;
        final List<String> values = new ArrayList<>();
        int number;
        List<String> operands;

        @Override
        public String description() {
            return "Records its arguments.";
        }

        @Override
        public List<Cli.Option> options() {
            return List.of(Cli.Option.flag("--flag", "A flag.", () -> flag = true),
                    new Cli.Option("--value", "V", "Repeatable.", values::add),
                    new Cli.Option("--number", "N", "A number.", v -> number = Cli.intValue("--number", v)));
        }

        @Override
        public int call(List<String> operands) {
            this.operands = operands;
            return 7;
        }
    }

    private static Recorder parse(String... args) throws Exception {
        Recorder r = new Recorder();
        assertEquals(7, Cli.parseAndCall("rec", r, List.of(args)));
        return r;
    }

    private static int refusal(String... args) {
        return assertThrows(GuestOptions.Refused.class, () -> Cli.parseAndCall("rec", new Recorder(), List.of(args))).status;
    }

    @Test
    void optionsEndAtTheBinaryEverythingAfterIsTheGuests() throws Exception {
        Recorder r = parse("--flag", "--value", "a", "--value=b=c", "--number=3", "bin", "--flag", "-h", "x");
        assertTrue(r.flag);
        assertEquals(List.of("a", "b=c"), r.values);
        assertEquals(3, r.number);
        assertEquals(List.of("bin", "--flag", "-h", "x"), r.operands);
    }

    @Test
    void doubleDashEndsOptions() throws Exception {
        Recorder r = parse("--", "--flag");
        assertEquals(List.of("--flag"), r.operands);
        assertTrue(!r.flag);
    }

    @Test
    void mistakesAreRefusedWithStatus2() {
        assertEquals(2, refusal("--bogus", "bin"));
        assertEquals(2, refusal("--value"));
        assertEquals(2, refusal("--flag=1", "bin"));
        assertEquals(2, refusal("--number", "x", "bin"));
        assertEquals(2, refusal("--flag"));
    }

    @Test
    void helpListsEveryOptionAndWraps() {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        Cli.printHelp(new PrintStream(o, true, StandardCharsets.UTF_8), "rec", new Recorder());
        String help = o.toString(StandardCharsets.UTF_8);
        assertTrue(help.startsWith("Usage: goemu rec [OPTIONS] BINARY [ARGS...]\n"), help);
        for (String s : List.of("--flag", "--value=V", "--number=N", "BINARY", "ARGS", "-h, --help")) assertTrue(help.contains("  " + s + " "), help);
        assertTrue(help.lines().allMatch(l -> l.length() <= 80), help);
    }
}
