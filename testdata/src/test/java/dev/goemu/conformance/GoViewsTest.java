package dev.goemu.conformance;

import dev.goemu.hooks.RuntimeLayout;
import dev.goemu.hooks.GoProgram;
import dev.goemu.loader.ElfFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Go-aware views on the seed program, through the launcher users run: {@code goemu trace-startup} and a scripted
 * {@code goemu debug} session, for every Go release under test and for a stripped ({@code -s -w}) build. The checks
 * are facts from outside goemu where there are any: .symtab addresses, instruction boundaries from {@code go tool
 * objdump}. A stripped build has no .symtab (and its longer build info shifts the data, so the unstripped build's
 * addresses don't apply): there the runtime globals come from goemu's layout, and the check is that the guest's own
 * pointers agree with them.
 */
class GoViewsTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final Path OUT = ConformanceTest.TARGET.resolve("views");

    /**
     * A build of the seed program. {@code unstripped} is the same program built without -s -w (itself, if not
     * stripped): objdump needs its .symtab, and the code is at the same addresses (only data after the build
     * info moves).
     */
    record Build(String name, ConformanceTest.Release release, Path binary, boolean stripped, Path unstripped) {}

    @TestFactory
    Stream<DynamicTest> views() throws Exception {
        List<Build> builds = new ArrayList<>();
        for (ConformanceTest.Release r : ConformanceTest.releases()) {
            Path plain = build(r, false);
            builds.add(new Build(r.version(), r, plain, false, plain));
            if (builds.size() == 1) builds.add(new Build(r.version() + "-stripped", r, build(r, true), true, plain));
        }
        return builds.stream().flatMap(b -> Stream.of(
                DynamicTest.dynamicTest(b.name() + "/trace-startup", () -> traceStartup(b)),
                DynamicTest.dynamicTest(b.name() + "/debug", () -> debugSession(b))));
    }

    private static final List<String> CHAIN = List.of("_rt0_amd64_linux", "_rt0_amd64", "runtime.rt0_go", "runtime.check",
            "runtime.args", "runtime.osinit", "runtime.schedinit", "runtime.procresize", "runtime.newproc", "runtime.mstart",
            "runtime.schedule", "runtime.execute", "runtime.main", "runtime.newm", "runtime.newosproc", "main.main");

    void traceStartup(Build b) throws Exception {
        ConformanceTest.Exec e = goemu(b, List.of("trace-startup", "--cpus", "3", b.binary().toString()));
        assertEquals(0, e.exit(), e.stderr());
        String out = e.stdout();
        List<String> milestones = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[0].matches("\\d+") && CHAIN.contains(f[3])) milestones.add(f[3]);
        }
        assertEquals(CHAIN, milestones, "the start-up chain, in order:\n" + out);

        RuntimeLayout layout = GoProgram.open(b.binary()).layout().orElseThrow();
        long g0 = global(b, layout, "runtime.g0"), m0 = global(b, layout, "runtime.m0");
        Matcher tls = find(out, "set FS base 0x(\\p{XDigit}+); fs:-8 holds g = 0x(\\p{XDigit}+) = &runtime.g0");
        long fs = Long.parseUnsignedLong(tls.group(1), 16);
        assertEquals(g0, Long.parseUnsignedLong(tls.group(2), 16), "fs:-8 resolves to runtime.g0");
        // settls points FS just past m0.tls[0], the slot that holds g.
        assertEquals(m0 + layout.offset("runtime.m", "tls") + 8, fs, "FS base is &m0.tls[0] + 8");
        find(out, String.format("g0.m = 0x%x = &runtime.m0; m0.g0 = 0x%x = &runtime.g0", m0, g0));
        find(out, "procresize done: gomaxprocs = 3, len\\(allp\\) = 3");
        find(out, "new goroutine 1 \\(g 0x\\p{XDigit}+\\) will run runtime.main");
        find(out, "newm for runtime.sysmon");
        find(out, "reached main.main");
    }

    void debugSession(Build b) throws Exception {
        Path script = Files.writeString(OUT.resolve(b.name() + ".commands"), """
                break runtime.schedinit
                continue
                regs
                bt
                disas
                finish
                break main.main
                continue
                bt
                info goroutines
                delete
                continue
                """);
        // Breakpoints go before the last continue: a goroutine that sysmon finds running long while the prompt waits is
        // preempted at its next prologue and restarts main.main from its entry, hitting it again (see the README).
        ConformanceTest.Exec e = goemu(b, List.of("debug", "--commands", script.toString(), b.binary().toString()));
        String out = e.stdout();
        assertEquals(0, e.exit(), e.stderr() + out);
        GoProgram program = GoProgram.open(b.binary());
        long schedinit = function(program, "runtime.schedinit");
        find(out, String.format("Breakpoint 1, 0x%x in runtime.schedinit \\(\\) at runtime/proc.go:\\d+", schedinit));
        long g0 = global(b, program.layout().orElseThrow(), "runtime.g0");
        find(out, String.format("g\\s+0x%016x  \\(fs:-8, the runtime's TLS slot\\) = &runtime.g0", g0));
        find(out, "#0  0x0*" + Long.toHexString(schedinit) + " in runtime.schedinit \\(\\)[^\n]*\n#1  0x\\p{XDigit}+ in runtime.rt0_go \\(\\)");

        // disas agrees with the Go toolchain's objdump on instruction boundaries.
        List<Long> ours = new ArrayList<>();
        Matcher insn = Pattern.compile("(?m)^(?:=> |   )0x(\\p{XDigit}+) <runtime\\.schedinit").matcher(out);
        while (insn.find()) ours.add(Long.parseUnsignedLong(insn.group(1), 16));
        assertEquals(10, ours.size(), out);
        assertEquals(objdumpAddresses(b, "runtime.schedinit").subList(0, 10), ours);

        // finish returns right after rt0_go's CALL runtime.schedinit.
        long after = callReturnAddress(b, "runtime.rt0_go", "runtime.schedinit");
        find(out, String.format("Run till exit from [^\n]*\n0x%x in runtime.rt0_go \\(\\)", after));

        long main = function(program, "main.main");
        find(out, String.format("Breakpoint 2, 0x%x in main.main \\(\\) at [^\n]*main.go:\\d+", main));
        find(out, "#0  0x0*" + Long.toHexString(main) + " in main.main \\(\\)[^\n]*\n#1  0x\\p{XDigit}+ in runtime.main \\(\\)[^\n]*\n"
                + "#2  0x\\p{XDigit}+ in runtime.goexit \\(\\)");
        // Stopped in main.main: goroutine 1 runs it, and the runtime's own goroutines (GC workers...) wait.
        find(out, "\\(goemu\\) info goroutines\n  goroutine 1 \\[running\\] on M\\d+\n(  goroutine \\d+ \\[\\w+[^\n]*\n)+");
        find(out, "  goroutine \\d+ \\[waiting, GC sweep wait\\]");
        find(out, "Hello, goroutine world!");
        find(out, "\\[The program exited with status 0\\]");
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static Path build(ConformanceTest.Release r, boolean stripped) throws Exception {
        Path bin = OUT.resolve(r.version() + (stripped ? "-stripped" : "")).resolve("seed");
        Files.createDirectories(bin.getParent());
        List<String> cmd = new ArrayList<>(List.of(r.go(), "build", "-o", bin.toString()));
        if (stripped) cmd.add("-ldflags=-s -w");
        cmd.add("./seed");
        ConformanceTest.Exec e = ConformanceTest.exec(cmd, ConformanceTest.goEnv(), null, ConformanceTest.MODULE.resolve("go"),
                null, ConformanceTest.BUILD_TIMEOUT);
        assertEquals(0, e.exit(), String.join(" ", cmd) + "\n" + e.stdout() + e.stderr());
        return bin;
    }

    private static ConformanceTest.Exec goemu(Build b, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ConformanceTest.LAUNCHER.toString());
        cmd.addAll(args);
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        ConformanceTest.Exec e = ConformanceTest.exec(cmd, env, null, OUT, null, TIMEOUT);
        Files.writeString(OUT.resolve(b.name() + "." + args.getFirst() + ".out"), e.stdout() + "\n--- stderr\n" + e.stderr());
        return e;
    }

    /** Instruction addresses of a function as `go tool objdump` lists them. */
    private static List<Long> objdumpAddresses(Build b, String function) throws Exception {
        List<Long> out = new ArrayList<>();
        String all = objdump(b, function);
        int from = all.indexOf("TEXT " + function + "(SB)");
        int to = all.indexOf("\nTEXT ", from + 1);
        String text = all.substring(from, to < 0 ? all.length() : to); // not the ABI0 wrapper's block
        Matcher m = Pattern.compile("(?m)^\\s+\\S+:\\d+\\s+0x(\\p{XDigit}+)\\s").matcher(text);
        while (m.find()) out.add(Long.parseUnsignedLong(m.group(1), 16));
        return out;
    }

    /** The address after `CALL callee(SB)` in {@code function}, from `go tool objdump`. */
    private static long callReturnAddress(Build b, String function, String callee) throws Exception {
        List<String> lines = objdump(b, function).lines().filter(l -> l.matches("\\s+\\S+:\\d+\\s+0x\\p{XDigit}+\\s.*")).toList();
        for (int i = 0; i + 1 < lines.size(); i++) {
            // Assembly calls a Go function through its ABI0 wrapper.
            if (lines.get(i).matches(".*CALL " + Pattern.quote(callee) + "(\\.abi0)?\\(SB\\).*")) {
                return Long.parseUnsignedLong(lines.get(i + 1).trim().split("\\s+")[1].substring(2), 16);
            }
        }
        throw new AssertionError("no CALL " + callee + " in " + function);
    }

    private static String objdump(Build b, String function) throws Exception {
        // Assembly functions are "name.abi0" in .symtab.
        String pattern = "^" + Pattern.quote(function) + "(\\.abi0)?$";
        List<String> cmd = List.of(b.release().go(), "tool", "objdump", "-s", pattern, b.unstripped().toString());
        ConformanceTest.Exec e = ConformanceTest.exec(cmd, ConformanceTest.goEnv(), null, OUT, null, TIMEOUT);
        assertEquals(0, e.exit(), e.stderr());
        return e.stdout();
    }

    /** A global's address: from .symtab, or for a stripped build from goemu's layout (nothing else knows it). */
    private static long global(Build b, RuntimeLayout layout, String name) throws Exception {
        if (b.stripped()) return layout.global(name).orElseThrow();
        return ElfFile.read(b.binary()).symbols().lookup(name).orElseThrow(() -> new AssertionError("no " + name)).value();
    }

    private static long function(GoProgram program, String name) {
        return program.symbols().lookup(name).orElseThrow(() -> new AssertionError("no " + name)).entry();
    }

    private static Matcher find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "expected /" + regex + "/ in:\n" + text);
        return m;
    }
}
