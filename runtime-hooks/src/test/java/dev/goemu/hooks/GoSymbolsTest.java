package dev.goemu.hooks;

import dev.goemu.loader.ElfFile;
import dev.goemu.loader.Symbol;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks the .gopclntab and .go.buildinfo readers against the Go toolchain's own tools ({@code go tool addr2line},
 * {@code go version -m}) on binaries this test builds with several Go releases, stripped and not.
 */
class GoSymbolsTest {
    private static final Path OUT = Path.of("target", "gosym-test").toAbsolutePath();
    private static final String MODULE = "example.com/symtest";

    /** A build of the test program; {@code go} is the command, {@code env} what selects the release. */
    enum Build {
        LOCAL(null, Map.of("GOTOOLCHAIN", "local"), false, "1.20"),
        LOCAL_STRIPPED(null, Map.of("GOTOOLCHAIN", "local"), true, "1.20"),
        GO1_21(null, Map.of("GOTOOLCHAIN", "go1.21.13"), false, "1.20"),
        GO1_21_STRIPPED(null, Map.of("GOTOOLCHAIN", "go1.21.13"), true, "1.20"),
        GO1_27(null, Map.of("GOTOOLCHAIN", "go1.27.0"), false, "1.20"),
        GO1_19("/usr/lib/go-1.19/bin/go", Map.of("GOTOOLCHAIN", "local"), false, "1.18"),
        GO1_19_STRIPPED("/usr/lib/go-1.19/bin/go", Map.of("GOTOOLCHAIN", "local"), true, "1.18");

        final String go;
        final Map<String, String> env;
        final boolean stripped;
        final String pclntab;

        Build(String go, Map<String, String> env, boolean stripped, String pclntab) {
            this.go = go;
            this.env = env;
            this.stripped = stripped;
            this.pclntab = pclntab;
        }
    }

    private static final Map<Build, Path> built = new HashMap<>();

    @ParameterizedTest
    @EnumSource(Build.class)
    void pclntabVersionMatchesTheRelease(Build b) throws Exception {
        GoSymbols syms = GoSymbols.load(ElfFile.read(binary(b))).orElseThrow();
        assertEquals(b.pclntab, syms.pclntabVersion());
        assertTrue(syms.functions().size() > 500, "functions: " + syms.functions().size());
        GoFunc main = syms.lookup("main.main").orElseThrow();
        assertTrue(main.entry() < main.end());
        assertEquals(main, syms.function(main.entry()).orElseThrow());
        assertEquals(main, syms.function(main.end() - 1).orElseThrow());
        assertFalse(syms.function(0).isPresent());
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    void symbolizationAgreesWithAddr2line(Build b) throws Exception {
        Path bin = binary(b);
        GoSymbols syms = GoSymbols.load(ElfFile.read(bin)).orElseThrow();
        List<Long> pcs = new ArrayList<>();
        for (String name : List.of("main.main", "runtime.main", "runtime.rt0_go", "main.fib", "main.(*counter).add")) {
            GoFunc f = syms.lookup(name).orElseThrow(() -> new AssertionError("no " + name));
            pcs.add(f.entry());
            pcs.add(f.entry() + (f.end() - f.entry()) / 2);
            pcs.add(f.end() - 1);
        }
        Random random = new Random(42);
        List<GoFunc> all = syms.functions();
        for (int i = 0; i < 200; i++) {
            GoFunc f = all.get(random.nextInt(all.size()));
            pcs.add(f.entry() + (long) (random.nextDouble() * (f.end() - f.entry())));
        }
        StringBuilder in = new StringBuilder();
        for (long pc : pcs) in.append(String.format("0x%x%n", pc));
        String[] out = run(List.of(goCommand(Build.LOCAL), "tool", "addr2line", bin.toString()), Build.LOCAL.env, in.toString())
                .split("\n");
        assertEquals(2 * pcs.size(), out.length, "addr2line output lines");
        int checkedLines = 0;
        for (int i = 0; i < pcs.size(); i++) {
            long pc = pcs.get(i);
            String where = String.format("pc 0x%x", pc);
            assertEquals(out[2 * i], syms.function(pc).map(GoFunc::name).orElse("?"), where);
            String expected = out[2 * i + 1];
            // Padding after a function's last instruction has no position: addr2line says ":-1", this says none.
            if (expected.equals(":-1")) expected = "?:0";
            String actual = syms.line(pc).map(SourceLine::toString).orElse("?:0");
            assertEquals(expected, actual, where + " in " + out[2 * i]);
            if (!expected.startsWith("?")) checkedLines++;
        }
        // Random PCs land in the int3 padding between functions now and then; most are in code.
        assertTrue(checkedLines > pcs.size() * 3 / 4, "most sample PCs have a line: " + checkedLines);
        SourceLine mainLine = syms.line(syms.lookup("main.main").orElseThrow().entry()).orElseThrow();
        assertTrue(mainLine.file().endsWith("/main.go"), mainLine.toString());
    }

    @ParameterizedTest
    @EnumSource(value = Build.class, names = {"LOCAL", "GO1_21", "GO1_27", "GO1_19"})
    void functionEntriesEqualSymtabValues(Build b) throws Exception {
        ElfFile elf = ElfFile.read(binary(b));
        GoSymbols syms = GoSymbols.load(elf).orElseThrow();
        assertEquals(elf.symbols().lookup("main.main").orElseThrow().value(), syms.lookup("main.main").orElseThrow().entry());
        // pclntab names an ABI0 wrapper like the function it wraps; .symtab adds ".abi0": compare with both.
        Map<String, List<Long>> values = new HashMap<>();
        for (Symbol s : elf.symbols().all()) {
            if (s.type() != Symbol.STT_FUNC) continue;
            String name = s.name().endsWith(".abi0") ? s.name().substring(0, s.name().length() - 5) : s.name();
            values.computeIfAbsent(name, k -> new ArrayList<>()).add(s.value());
        }
        int compared = 0;
        for (GoFunc f : syms.functions()) {
            List<Long> v = values.get(f.name());
            if (v == null) continue;
            assertTrue(v.contains(f.entry()), f.name() + String.format(" at 0x%x, .symtab has ", f.entry()) + v);
            compared++;
        }
        assertTrue(compared > syms.functions().size() * 9 / 10, "compared " + compared + " of " + syms.functions().size());
    }

    @ParameterizedTest
    @EnumSource(value = Build.class, names = {"LOCAL_STRIPPED", "GO1_21_STRIPPED", "GO1_19_STRIPPED"})
    void strippedBinariesStillSymbolize(Build b) throws Exception {
        ElfFile elf = ElfFile.read(binary(b));
        assertTrue(elf.symbols().isEmpty(), "-s leaves no .symtab");
        assertTrue(elf.section(".debug_info").isEmpty() && elf.section(".zdebug_info").isEmpty(), "-w leaves no DWARF");
        GoSymbols syms = GoSymbols.load(elf).orElseThrow();
        // The ELF entry point is _rt0_amd64_linux, an assembly function that pclntab also names.
        assertEquals("_rt0_amd64_linux", syms.function(elf.entry()).orElseThrow().name());
        assertEquals(elf.entry(), syms.lookup("_rt0_amd64_linux").orElseThrow().entry());
    }

    /** The runtime's own CallersFrames is the oracle for inlined frames; stripped builds find the tree too. */
    @ParameterizedTest
    @EnumSource(Build.class)
    void inlinedFramesAgreeWithTheRuntime(Build b) throws Exception {
        Path bin = binary(b);
        String[] out = run(List.of(bin.toString(), "frames"), Map.of(), "").split("\n");
        String[] pcs = out[0].split(" ");
        List<String> expected = new ArrayList<>();
        for (int i = 1; i < out.length && expected.size() < 3; i++) expected.add(out[i].substring("frame ".length()));
        assertTrue(expected.get(1).startsWith("main.middle "), "runtime frames: " + expected);
        GoSymbols syms = GoSymbols.load(ElfFile.read(bin)).orElseThrow();
        List<String> actual = new ArrayList<>();
        List<Boolean> inlined = new ArrayList<>();
        for (String pc : List.of(pcs[1], pcs[2])) {
            for (GoSymbols.Frame f : syms.frames(Long.parseUnsignedLong(pc, 16) - 1)) {
                actual.add(f.function() + " " + f.line().map(SourceLine::toString).orElse("?"));
                inlined.add(f.inlined());
            }
        }
        assertEquals(expected, actual);
        assertEquals(List.of(false, true, false), inlined, "middle is inlined into main");
    }

    @ParameterizedTest
    @EnumSource(value = Build.class, names = {"LOCAL", "GO1_21", "GO1_27", "GO1_19"})
    void moduledataGivesTheGoFuncSymbol(Build b) throws Exception {
        ElfFile elf = ElfFile.read(binary(b));
        long symbol = elf.symbols().lookup(b == Build.GO1_19 ? "go.func.*" : "go:func.*").orElseThrow().value();
        long pclntab = elf.section(".gopclntab").orElseThrow().addr();
        assertEquals(symbol, GoFuncBase.fromModuledata(elf, pclntab, b != Build.GO1_19));
    }

    @ParameterizedTest
    @EnumSource(value = Build.class, names = {"LOCAL", "GO1_19"})
    void lineTableCoversAFunctionWithItsLines(Build b) throws Exception {
        GoSymbols syms = GoSymbols.load(ElfFile.read(binary(b))).orElseThrow();
        GoFunc fib = syms.lookup("main.fib").orElseThrow();
        List<GoSymbols.LineRange> table = syms.lineTable(fib);
        assertEquals(fib.entry(), table.getFirst().start());
        for (GoSymbols.LineRange r : table) {
            assertEquals(syms.line(r.start()).orElseThrow(), r.line());
            assertEquals(syms.line(r.end() - 1).orElseThrow(), r.line());
        }
        assertTrue(table.stream().anyMatch(r -> r.line().line() == syms.line(fib.entry()).orElseThrow().line() + 2),
                "the 'return n' line has code: " + table);
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    void buildInfoAgreesWithGoVersion(Build b) throws Exception {
        Path bin = binary(b);
        GoBuildInfo info = GoBuildInfo.read(ElfFile.read(bin)).orElseThrow();
        String go = goCommand(Build.LOCAL);
        String version = run(List.of(go, "version", bin.toString()), Build.LOCAL.env, "").trim();
        assertEquals(bin + ": " + info.goVersion(), version);
        String modules = run(List.of(go, "version", "-m", bin.toString()), Build.LOCAL.env, "");
        List<String> settings = new ArrayList<>();
        String mod = null, path = null;
        for (String line : modules.split("\n")) {
            String[] f = line.split("\t");
            if (f.length < 3 || !f[0].isEmpty()) continue;
            switch (f[1]) {
                case "mod" -> mod = f[2];
                case "path" -> path = f[2];
                case "build" -> settings.add(line.substring("\tbuild\t".length()));
                default -> { }
            }
        }
        assertEquals(MODULE, mod, modules);
        assertEquals(mod, info.mainModule());
        assertEquals(path, info.path());
        assertEquals(settings, info.settings());
        assertEquals(Optional.of("amd64"), info.setting("GOARCH"));
        assertEquals(Optional.of("0"), info.setting("CGO_ENABLED"));
        if (b.stripped) assertEquals(Optional.of("\"-s -w\""), info.setting("-ldflags")); // quoted: it has a space
        String release = b.pclntab.equals("1.18") ? "go1.19" : b.env.get("GOTOOLCHAIN").startsWith("go1.") ? b.env.get("GOTOOLCHAIN") : "go1.";
        assertTrue(info.goVersion().startsWith(release), info.goVersion());
    }

    // ---- building -------------------------------------------------------------------------------------------

    private static synchronized Path binary(Build b) throws Exception {
        Path done = built.get(b);
        if (done != null) return done;
        String go = goCommand(b);
        assumeTrue(go != null, "no go command for " + b);
        Map<String, String> env = new LinkedHashMap<>(b.env);
        // Probe the release: a GOTOOLCHAIN that is not downloaded (and cannot be) means skip, not fail.
        Process probe = process(List.of(go, "version"), env);
        String probed = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0, b + ": toolchain unavailable: " + probed);
        Path src = OUT.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("go.mod"), "module " + MODULE + "\n\ngo 1.19\n");
        Files.writeString(src.resolve("main.go"), """
                package main

                import (
                	"fmt"
                	"os"
                	"runtime"
                )

                // middle is small enough to be inlined into main, inner is not: the "frames" mode prints how the
                // runtime itself names the frames at inner's call of runtime.Callers and at middle's call of inner.
                func inner() []uintptr {
                	pcs := make([]uintptr, 16)
                	return pcs[:runtime.Callers(1, pcs)]
                }

                func middle() []uintptr { return inner() }

                type counter struct{ n int }

                //go:noinline
                func (c *counter) add(k int) int {
                	c.n += k
                	return c.n
                }

                //go:noinline
                func fib(n int) int {
                	if n < 2 {
                		return n
                	}
                	return fib(n-1) + fib(n-2)
                }

                func main() {
                	if len(os.Args) > 1 && os.Args[1] == "frames" {
                		pcs := middle()
                		fmt.Printf("pc %x %x\\n", pcs[0], pcs[1])
                		frames := runtime.CallersFrames(pcs)
                		for {
                			f, more := frames.Next()
                			fmt.Printf("frame %s %s:%d\\n", f.Function, f.File, f.Line)
                			if !more {
                				break
                			}
                		}
                		return
                	}
                	c := &counter{}
                	for i := 0; i < len(os.Args)+3; i++ {
                		c.add(fib(i))
                	}
                	fmt.Println("total", c.n)
                }
                """);
        Path bin = OUT.resolve("symtest-" + b.name().toLowerCase());
        List<String> cmd = new ArrayList<>(List.of(go, "build", "-o", bin.toString()));
        if (b.stripped) cmd.add("-ldflags=-s -w");
        cmd.add(".");
        env.put("CGO_ENABLED", "0");
        env.put("GOOS", "linux");
        env.put("GOARCH", "amd64");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(src.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), b + ": go build failed:\n" + output);
        built.put(b, bin);
        return bin;
    }

    private static String goCommand(Build b) {
        if (b.go != null) return Files.isExecutable(Path.of(b.go)) ? b.go : null;
        return Stream.concat(
                        Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).map(d -> Path.of(d, "go")),
                        Stream.of(Path.of("/usr/local/go/bin/go")))
                .filter(Files::isExecutable).map(Path::toString).findFirst().orElse(null);
    }

    private static Process process(List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        return pb.start();
    }

    private static String run(List<String> cmd, Map<String, String> env, String stdin) throws Exception {
        assumeTrue(cmd.get(0) != null, "needs the go toolchain");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), cmd + " failed: " + err);
        return out;
    }
}
