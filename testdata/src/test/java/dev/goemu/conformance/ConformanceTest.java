package dev.goemu.conformance;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Conformance suite: every program under {@code testdata/go/} is built with every Go release, run natively
 * and under {@code <repo>/goemu run -- BIN ARGS} (the launcher users run), and the two runs are compared:
 * stdout exactly, the exit status exactly, stderr exactly or after {@link #normalizeTrace normalization}
 * (cases that print a goroutine trace).
 *
 * <p>Each (release, case) pair is a dynamic test named {@code <goversion>/<case>}; {@link #report} prints
 * (and writes to {@code testdata/target/conformance-report.txt}) one line per release:
 * {@code conformance go1.26.8: 30/30 passed}. Outputs of both runs stay in
 * {@code testdata/target/runs/<goversion>/<case>/}.
 *
 * <p>System properties (set with {@code -D} on the mvn command line):
 * <ul>
 *   <li>{@code goemu.go.releases}: space-separated go commands, one per release (the pom passes
 *       {@code $GOEMU_GO_RELEASES}, which {@code scripts/go-releases.sh} sets up); empty: {@code go} on PATH.</li>
 *   <li>{@code goemu.releases}: comma-separated; an entry with a '/' is a go command (these replace the
 *       list above), any other entry keeps only the releases whose version starts with it
 *       ({@code go1.21} or {@code go1.21.13}).</li>
 *   <li>{@code goemu.cases}: comma-separated case names to run; a trailing '*' matches a prefix ({@code panic*}).</li>
 *   <li>{@code goemu.case.timeout}: seconds per run (default 120); {@code goemu.suite.timeout}: seconds after
 *       which cases not yet started fail at once (default 900), so a hanging engine cannot take hours.</li>
 * </ul>
 */
class ConformanceTest {

    // ---------------------------------------------------------------------------------------------------
    // The case table.

    /** How stderr is compared: exactly, {@link #normalizeTrace trace-normalized}, or only its {@link #stderrHead head}. */
    enum Stderr { EXACT, TRACE, HEAD }

    /** One case: a program from testdata/go and how to run it. Mutable only while the table is built. */
    static final class Case {
        final String name;
        String program;
        List<String> args = List.of();
        final Map<String, String> env = new LinkedHashMap<>();
        String stdin;
        List<String> goemuOptions = List.of();
        List<String> nativePrefix = List.of();
        Stderr stderr = Stderr.EXACT;
        int nativeExit;
        double minGoemuSeconds = -1, maxGoemuSeconds = -1;
        boolean sleeper;
        String signalAfterReady;

        Case(String name) { this.name = name; this.program = name; }
        Case program(String p) { program = p; return this; }
        Case args(String... a) { args = List.of(a); return this; }
        Case env(String k, String v) { env.put(k, v); return this; }
        Case stdin(String s) { stdin = s; return this; }
        Case goemuOptions(String... o) { goemuOptions = List.of(o); return this; }
        Case nativePrefix(String... p) { nativePrefix = List.of(p); return this; }
        Case trace() { stderr = Stderr.TRACE; return this; }
        /** Compare only the head of stderr (up to the first blank line), hex numbers masked: fatal errors. */
        Case stderrHead() { stderr = Stderr.HEAD; return this; }
        Case exit(int status) { nativeExit = status; return this; }
        /**
         * Wall time of the goemu run (JVM start included) must lie in [min, max] seconds. Only for sleepers:
         * the goemu run starts with the CPU lanes paused until it prints something, so that the JVM start
         * is timed on an unloaded machine (it takes 0.9 s alone and over 2 s sharing 2 cores with 2 others).
         */
        Case goemuSeconds(double min, double max) { minGoemuSeconds = min; maxGoemuSeconds = max; return this; }
        /** Mostly sleeps: runs in a lane of its own, beside the two CPU lanes. */
        Case sleeper() { sleeper = true; return this; }
        /**
         * Both runs: once "ready" is a line of the program's stdout, the harness runs {@code kill -SIG PID}
         * (SIG: INT, TERM, ...). Both start under {@code env --default-signal=SIG}, so that a SIG_IGN
         * inherited from whoever started the build (a non-interactive shell's {@code cmd &} ignores INT)
         * cannot change the outcome. The goemu launcher execs java, so PID is the JVM, which forwards
         * the signal to the guest.
         */
        Case signalAfterReady(String sig) { signalAfterReady = sig; return this; }
        Case sigintAfterReady() { return signalAfterReady("INT"); }
    }

    static Case c(String name) { return new Case(name); }

    /**
     * The cases. Programs are in testdata/go/&lt;program&gt;/main.go; each runs well under a second natively.
     * The benchmark programs (sha256, nbody, pingpong) get small inputs here; bench/run.sh uses big ones.
     */
    static final List<Case> CASES = List.of(
            c("hello"),
            // examples/main.go verbatim: prints two lines, sleeps 6 s; timing must behave as on Linux.
            // Native takes 6.0 s; the goemu run adds ~0.7 s of JVM start and runs while two CPU-bound
            // cases share the 2 cores, hence up to 8 s. Under 5.5 s means the sleep was cut short.
            c("seed").sleeper().goemuSeconds(5.5, 8.0),
            c("args-env-exit").args("a b", "", "ünï", "--flag", "-x", "q\"uote")
                    .env("GOEMU_TEST_VAR", "hello world=1").exit(3),
            c("goroutines"),
            c("channels"),
            c("mutex"),
            c("timers"),
            // setitimer, alarm, timer_create (monotonic, thread CPU time), timerfd, and a CPU profile with samples.
            c("itimers"),
            c("gcchurn"),
            c("stdlib"),
            c("files"),
            c("mmapshared"),
            // io.Copy over splice/sendfile/copy_file_range, fd passing (SCM_RIGHTS), poll, a FIFO.
            c("iocalls"),
            c("selectcall"),
            // Hostile arguments: huge lengths, protected memory, raw fcntl commands, limits, bad flags. HOSTILE_GOEMU
            // tells the probe of O_ASYNC to its own pid that goemu refuses it (the host would signal the JVM).
            c("hostile").goemuOptions("--env", "HOSTILE_GOEMU=1"),
            c("hostile-sigreturn").program("hostile").args("sigreturn").exit(139),
            c("hostile-altstack").program("hostile").args("altstack").exit(139),
            // Its own /proc: fd/, maps, comm, cmdline, status, stat, task, auxv, limits, mem (also through a symlink).
            c("procself").args("a", "b c"),
            c("stdin").stdin("one two\nthree\n\nfour five six\n"),
            c("numcpu"),
            c("numcpu-1").program("numcpu").goemuOptions("--cpus", "1").nativePrefix("taskset", "-c", "0"),
            c("numcpu-gomaxprocs").program("numcpu").env("GOMAXPROCS", "3"),
            c("preempt"),
            // Time slices of 20 us: the engine is interrupted tens of thousands of times while the guest checks
            // its own state across threads, atomics, locks, channels, syscalls and signals.
            c("interrupts").goemuOptions("--time-slice", "20us"),
            // The runtime without async preemption (no SIGURG): cooperative scheduling only.
            c("preempt-off").program("goroutines").env("GODEBUG", "asyncpreemptoff=1"),
            c("faults"),
            // CPU exceptions from the program's own assembly: a recovered divide error (SIGFPE); int3 (SIGTRAP) and
            // ud2 (SIGILL), which Go's handler reports as fatal ("SIGILL: illegal instruction", PC, exit 2).
            c("traps-divide").program("traps").args("divide"),
            c("traps-int3").program("traps").args("int3").stderrHead().exit(2),
            c("traps-ud2").program("traps").args("ud2").stderrHead().exit(2),
            c("panic").trace().exit(2),
            c("panic-goroutine").program("panic").args("goroutine").trace().exit(2),
            c("panic-nil").program("panic").args("nil").trace().exit(2),
            c("panic-deadlock").program("panic").args("deadlock").trace().exit(2),
            // Signals: sent to itself (kill, tgkill) and caught; sent from outside once "ready" is printed.
            c("notify"),
            c("sigint").sigintAfterReady(),
            c("sigint-default").program("sigint").args("default").sigintAfterReady().exit(130),
            c("sigterm-default").program("sigint").args("default").signalAfterReady("TERM").exit(143),
            // "fatal error: stack overflow" at a 1 MiB limit; the goroutine dump after it has stack addresses.
            c("stackoverflow").stderrHead().exit(2),
            // os/exec: native children (sh, tr, sleep) and this binary re-executed (emulated), signals, groups.
            c("exec"),
            c("exec-native").program("exec").goemuOptions("--children", "native"),
            // Emulated children only (this binary re-executed): deterministic under --deterministic (DeterminismTest).
            c("exec-emulated").program("exec").args("emulated"),
            // fork(2) by raw syscall: copied and shared memory, inherited fds, exit status and signal to wait4.
            c("fork"),
            // The fixed variants of the concurrency bugs goemu explore finds (ExploreTest); the buggy ones are not
            // deterministic natively.
            c("lostupdate-fixed").program("lostupdate").args("fixed"),
            c("maprace-fixed").program("maprace").args("fixed"),
            c("ordering-fixed").program("ordering").args("fixed"),
            c("deadlock-fixed").program("deadlock").args("fixed"),
            c("sha256").args("2", "10"),
            c("nbody").args("200000"),
            c("pingpong").args("503", "20000"));

    // ---------------------------------------------------------------------------------------------------
    // Configuration.

    static final Path MODULE = moduleDir();
    static final Path REPO = Path.of(prop("goemu.repo", MODULE.resolve("..").toString())).toAbsolutePath().normalize();
    static final Path TARGET = MODULE.resolve("target");
    static final Path LAUNCHER = REPO.resolve("goemu");
    static final Path JAR = REPO.resolve("emulator/target/goemu.jar");
    static final Duration CASE_TIMEOUT = Duration.ofSeconds(Long.parseLong(prop("goemu.case.timeout", "120")));
    static final Duration SUITE_TIMEOUT = Duration.ofSeconds(Long.parseLong(prop("goemu.suite.timeout", "900")));
    static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);
    /** Cases that use the CPU run at most this many at a time (the machines are 2-core). */
    static final int CPU_LANES = 2;
    /** One per CPU lane; a CPU-lane case holds one, a timed sleeper takes all of them while its JVM starts. */
    static final Semaphore CPU_PERMITS = new Semaphore(CPU_LANES, true);

    record Release(String go, String version) {}

    // Per-release tallies for the report, in release order.
    static final Map<String, Tally> TALLIES = new LinkedHashMap<>();

    static final class Tally {
        int total, passed, skipped;
        final List<String> failed = new ArrayList<>();
    }

    // ---------------------------------------------------------------------------------------------------
    // The suite.

    @TestFactory
    List<DynamicTest> conformance() throws Exception {
        if (!Files.isRegularFile(JAR)) {
            String why = "conformance suite skipped: " + JAR + " is missing (run ./build.sh first, or mvn verify"
                    + " from the repository root, which packages the emulator before these tests)";
            System.out.println(why);
            Files.createDirectories(TARGET);
            Files.writeString(TARGET.resolve("conformance-report.txt"), why + "\n");
            Assumptions.abort(why);
        }
        List<Release> releases = releases();
        List<Case> cases = selectedCases();
        Files.createDirectories(TARGET);

        // Build every release (two at a time; each go build is parallel itself).
        ExecutorService builders = Executors.newFixedThreadPool(2, daemon("goemu-build"));
        Map<Release, Future<String>> builds = new LinkedHashMap<>();
        Set<String> programs = cases.stream().map(k -> k.program).collect(Collectors.toCollection(LinkedHashSet::new));
        for (Release r : releases) builds.put(r, builders.submit(() -> build(r, programs)));
        Map<Release, String> buildErrors = new LinkedHashMap<>();
        for (var e : builds.entrySet()) {
            String err = e.getValue().get();
            if (err != null) buildErrors.put(e.getKey(), err);
        }
        builders.shutdown();

        // Run: sleepers in their own lane, the rest in CPU_LANES lanes, all started now; each dynamic test
        // waits for its own result, so Surefire still lists every case on its own.
        ExecutorService cpu = Executors.newFixedThreadPool(CPU_LANES, daemon("goemu-case"));
        ExecutorService sleepers = Executors.newSingleThreadExecutor(daemon("goemu-sleeper"));
        long deadline = System.nanoTime() + SUITE_TIMEOUT.toNanos();
        Map<String, CompletableFuture<Outcome>> outcomes = new LinkedHashMap<>();
        for (boolean sleeperPass : new boolean[] {true, false}) {
            for (Release r : releases) {
                for (Case k : cases) {
                    if (k.sleeper != sleeperPass) continue;
                    String id = r.version() + "/" + k.name;
                    String buildError = buildErrors.get(r);
                    CompletableFuture<Outcome> f = buildError != null
                            ? CompletableFuture.completedFuture(Outcome.fail(id + ": build with " + r.go() + " failed:\n" + buildError))
                            : k.sleeper ? CompletableFuture.supplyAsync(() -> runCase(r, k, deadline), sleepers)
                            : CompletableFuture.supplyAsync(() -> {
                                CPU_PERMITS.acquireUninterruptibly();
                                try {
                                    return runCase(r, k, deadline);
                                } finally {
                                    CPU_PERMITS.release();
                                }
                            }, cpu);
                    outcomes.put(id, f);
                }
            }
        }
        cpu.shutdown();
        sleepers.shutdown();

        List<DynamicTest> tests = new ArrayList<>();
        for (Release r : releases) {
            synchronized (TALLIES) { TALLIES.put(r.version(), new Tally()); }
            for (Case k : cases) {
                String id = r.version() + "/" + k.name;
                CompletableFuture<Outcome> f = outcomes.get(id);
                tests.add(DynamicTest.dynamicTest(id, () -> check(r.version(), k.name, f)));
            }
        }
        return tests;
    }

    static void check(String version, String caseName, CompletableFuture<Outcome> future) throws Exception {
        Outcome o;
        try {
            o = future.get();
        } catch (ExecutionException e) {
            o = Outcome.fail(version + "/" + caseName + ": the harness failed: " + e.getCause());
        }
        synchronized (TALLIES) {
            Tally t = TALLIES.get(version);
            t.total++;
            if (o.skipped != null) t.skipped++;
            else if (o.failure == null) t.passed++;
            else t.failed.add(caseName);
        }
        if (o.skipped != null) throw new TestAbortedException(o.skipped);
        if (o.failure != null) throw new AssertionFailedError(o.failure);
    }

    @AfterAll
    static void report() throws IOException {
        StringBuilder sb = new StringBuilder();
        synchronized (TALLIES) {
            for (var e : TALLIES.entrySet()) {
                Tally t = e.getValue();
                sb.append("conformance ").append(e.getKey()).append(": ").append(t.passed).append('/').append(t.total - t.skipped)
                        .append(" passed");
                if (t.skipped > 0) sb.append(", ").append(t.skipped).append(" skipped");
                if (!t.failed.isEmpty()) sb.append(" (failed: ").append(String.join(", ", t.failed)).append(')');
                sb.append('\n');
            }
        }
        if (sb.isEmpty()) return;
        System.out.print(sb);
        Files.createDirectories(TARGET);
        Files.writeString(TARGET.resolve("conformance-report.txt"), sb.toString());
    }

    // ---------------------------------------------------------------------------------------------------
    // Releases and builds.

    static List<Release> releases() throws Exception {
        List<String> gos = new ArrayList<>(split(prop("goemu.go.releases", ""), "\\s+"));
        if (gos.isEmpty()) gos.addAll(split(System.getenv().getOrDefault("GOEMU_GO_RELEASES", ""), "\\s+"));
        List<String> filters = new ArrayList<>();
        List<String> explicit = new ArrayList<>();
        for (String s : split(prop("goemu.releases", ""), "[,\\s]+")) (s.contains("/") ? explicit : filters).add(s);
        if (!explicit.isEmpty()) gos = explicit;
        if (gos.isEmpty()) gos = List.of("go");

        List<Release> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        List<String> all = new ArrayList<>();
        for (String go : gos) {
            Exec e = exec(List.of(go, "env", "GOVERSION"), goEnv(), null, TARGET, null, Duration.ofMinutes(1));
            String v = e.stdout.trim();
            if (e.exit != 0 || !v.startsWith("go")) {
                throw new IllegalStateException("cannot use Go release " + go + " (go env GOVERSION: exit " + e.exit + ", "
                        + (e.stderr + e.stdout).trim() + "); set GOEMU_GO_RELEASES to go commands, or run ./test.sh");
            }
            v = v.split("\\s+")[0]; // newer releases may add experiment suffixes on the same line
            all.add(v);
            if (!seen.add(v)) continue;
            if (!filters.isEmpty() && filters.stream().noneMatch(v::startsWith)) continue;
            out.add(new Release(go, v));
        }
        if (out.isEmpty()) throw new IllegalStateException("goemu.releases=" + filters + " matches none of " + all);
        return out;
    }

    static List<Case> selectedCases() {
        List<String> wanted = split(prop("goemu.cases", ""), "[,\\s]+");
        if (wanted.isEmpty()) return CASES;
        List<Case> out = new ArrayList<>();
        for (String w : wanted) {
            boolean prefix = w.endsWith("*");
            String stem = prefix ? w.substring(0, w.length() - 1) : w;
            List<Case> hits = CASES.stream().filter(k -> prefix ? k.name.startsWith(stem) : k.name.equals(stem)).toList();
            if (hits.isEmpty()) {
                throw new IllegalArgumentException("goemu.cases: no case '" + w + "'; cases: "
                        + CASES.stream().map(k -> k.name).collect(Collectors.joining(", ")));
            }
            for (Case k : hits) if (!out.contains(k)) out.add(k);
        }
        return out;
    }

    /** Builds the programs into target/bin/&lt;version&gt;/; returns null on success, else the build output. */
    static String build(Release r, Set<String> programs) throws Exception {
        Path bin = TARGET.resolve("bin").resolve(r.version());
        Files.createDirectories(bin);
        List<String> cmd = new ArrayList<>(List.of(r.go(), "build", "-o", bin + "/"));
        for (String p : programs) cmd.add("./" + p);
        String log = goCommand(cmd);
        if (log != null) Files.writeString(bin.resolve("build.log"), log);
        return log;
    }

    /** Runs a go command in testdata/go with {@link #goEnv()}: null, or its command line and output. */
    static String goCommand(List<String> cmd) throws Exception {
        Exec e = exec(cmd, goEnv(), null, MODULE.resolve("go"), null, BUILD_TIMEOUT);
        if (e.exit == 0 && !e.timedOut) return null;
        return (String.join(" ", cmd) + "\n" + e.stdout + e.stderr + (e.timedOut ? "\n(timed out)" : "")).strip();
    }

    /**
     * Environment for go commands: static binaries for linux/amd64 (baseline ISA), each release with its own
     * toolchain and GOROOT, no caller flags that change what is built.
     */
    static Map<String, String> goEnv() {
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        for (String k : List.of("GOROOT", "GOFLAGS", "GOAMD64", "GOEXPERIMENT", "GO111MODULE")) env.remove(k);
        env.put("CGO_ENABLED", "0");
        env.put("GOOS", "linux");
        env.put("GOARCH", "amd64");
        env.put("GOTOOLCHAIN", "local");
        env.put("GOWORK", "off");
        if (!env.containsKey("HOME") && !env.containsKey("XDG_CACHE_HOME")) {
            env.putIfAbsent("GOCACHE", TARGET.resolve("gocache").toString());
            env.putIfAbsent("GOPATH", TARGET.resolve("gopath").toString());
        }
        return env;
    }

    // ---------------------------------------------------------------------------------------------------
    // Running and comparing one case.

    record Outcome(String failure, String skipped) {
        static Outcome pass() { return new Outcome(null, null); }
        static Outcome fail(String m) { return new Outcome(m, null); }
        static Outcome skip(String m) { return new Outcome(null, m); }
    }

    static Outcome runCase(Release r, Case k, long deadline) {
        String id = r.version() + "/" + k.name;
        try {
            if (System.nanoTime() > deadline) {
                return Outcome.fail(id + ": not run: the suite's time budget (goemu.suite.timeout=" + SUITE_TIMEOUT.toSeconds()
                        + " s) was used up by earlier cases");
            }
            if (!k.nativePrefix.isEmpty() && !onPath(k.nativePrefix.get(0))) {
                return Outcome.skip(id + ": " + k.nativePrefix.get(0) + " is not installed");
            }
            Path bin = TARGET.resolve("bin").resolve(r.version()).resolve(k.program);
            Path dir = TARGET.resolve("runs").resolve(r.version()).resolve(k.name);
            Files.createDirectories(dir);
            Path stdin = null;
            if (k.stdin != null) {
                stdin = dir.resolve("stdin");
                Files.writeString(stdin, k.stdin);
            }

            List<String> signalPrefix = k.signalAfterReady == null ? List.of()
                    : List.of("env", "--default-signal=" + k.signalAfterReady);
            List<String> nativeCmd = new ArrayList<>(signalPrefix);
            nativeCmd.addAll(k.nativePrefix);
            nativeCmd.add(bin.toString());
            nativeCmd.addAll(k.args);
            Map<String, String> nativeEnv = new LinkedHashMap<>(System.getenv());
            nativeEnv.putAll(k.env);
            Exec nat = exec(nativeCmd, nativeEnv, stdin, dir, "native", CASE_TIMEOUT, k.signalAfterReady, null);

            List<String> goemuCmd = new ArrayList<>(signalPrefix);
            goemuCmd.addAll(List.of(LAUNCHER.toString(), "run"));
            goemuCmd.addAll(k.goemuOptions);
            k.env.forEach((key, v) -> goemuCmd.addAll(List.of("--env", key + "=" + v)));
            goemuCmd.add("--");
            goemuCmd.add(bin.toString());
            goemuCmd.addAll(k.args);
            boolean timed = k.minGoemuSeconds >= 0;
            if (timed && !k.sleeper) throw new IllegalStateException(k.name + ": goemuSeconds is only for sleeper cases");
            // A timed run pauses the CPU lanes until it prints something (its JVM has started).
            Runnable resumeCpuLanes = timed ? once(() -> CPU_PERMITS.release(CPU_LANES)) : null;
            if (timed) CPU_PERMITS.acquireUninterruptibly(CPU_LANES);
            Exec emu;
            try {
                emu = exec(goemuCmd, new LinkedHashMap<>(System.getenv()), stdin, dir, "goemu", CASE_TIMEOUT, k.signalAfterReady,
                        resumeCpuLanes);
            } finally {
                if (timed) resumeCpuLanes.run();
            }
            Files.writeString(dir.resolve("commands"), "native: " + String.join(" ", nativeCmd) + "\ngoemu:  "
                    + String.join(" ", goemuCmd) + "\nenv: " + k.env + "\n"
                    + (k.signalAfterReady == null ? "" : "signal: native " + nat.signalled + "; goemu " + emu.signalled + "\n")
                    + String.format(Locale.ROOT, "seconds: native %.2f, goemu %.2f%s%n", nat.seconds, emu.seconds,
                            timed ? String.format(Locale.ROOT, " (first output after %.2f)", emu.firstOutput) : ""));
            return compare(id, k, nat, emu, dir);
        } catch (Exception e) {
            return Outcome.fail(id + ": the harness failed: " + e);
        }
    }

    static Outcome compare(String id, Case k, Exec nat, Exec emu, Path dir) {
        if (nat.timedOut || nat.exit != k.nativeExit) {
            return Outcome.fail(id + ": the native run is broken, not goemu: " + (nat.timedOut ? "timed out" : "exit " + nat.exit)
                    + ", expected exit " + k.nativeExit + (nat.signalled == null ? "" : " (" + nat.signalled + ")")
                    + "\n  stderr: " + clip(nat.stderr.strip(), 400) + "\n  outputs: " + REPO.relativize(dir));
        }
        List<String> problems = new ArrayList<>();
        if (emu.timedOut) problems.add("goemu timed out after " + CASE_TIMEOUT.toSeconds() + " s and was killed");
        if (nat.exit != emu.exit) problems.add("exit status: native " + nat.exit + ", goemu " + emu.exit);
        String d = diff(nat.stdout, emu.stdout);
        if (d != null) problems.add("stdout " + d);
        d = switch (k.stderr) {
            case EXACT -> diff(nat.stderr, emu.stderr);
            case TRACE -> diff(normalizeTrace(nat.stderr), normalizeTrace(emu.stderr));
            case HEAD -> diff(stderrHead(nat.stderr), stderrHead(emu.stderr));
        };
        if (d != null) {
            problems.add(switch (k.stderr) {
                case EXACT -> "stderr ";
                case TRACE -> "stderr (trace-normalized) ";
                case HEAD -> "stderr (head, hex masked) ";
            } + d);
        }
        // Say when the signal went out (or why not), so that a lost signal is told from one never sent.
        if (k.signalAfterReady != null && !problems.isEmpty()) problems.add("signal: native " + nat.signalled + "; goemu " + emu.signalled);
        if (k.minGoemuSeconds >= 0 && !emu.timedOut && (emu.seconds < k.minGoemuSeconds || emu.seconds > k.maxGoemuSeconds)) {
            problems.add(String.format(Locale.ROOT, "wall time: goemu %.2f s (first output after %.2f s), expected %.1f-%.1f s (native %.2f s)",
                    emu.seconds, emu.firstOutput, k.minGoemuSeconds, k.maxGoemuSeconds, nat.seconds));
        }
        if (problems.isEmpty()) return Outcome.pass();
        return Outcome.fail(id + ": goemu differs from native (outputs in " + REPO.relativize(dir) + "/)\n  "
                + String.join("\n  ", problems));
    }

    /**
     * Stderr normalization for cases that print goroutine traces; everything else is compared exactly.
     * Both runs execute the same binary, so file:line, "+0x.." offsets and pc= values are the same and are
     * left alone. Only two things differ between correct runs:
     * <ol>
     *   <li>goroutine numbers ("goroutine 6 [running]:", "created by main.main in goroutine 1"): they count
     *       every goroutine the runtime started, and the runtime starts some on demand: → "goroutine N";</li>
     *   <li>argument lists of trace frames ("main.fail({0x4c4c1a?, 0x1f03d8808048?})"): words the traceback
     *       reads from registers and the stack, partly garbage ("?" marks them), varying from run to run
     *       even natively: → "main.fail(...)".</li>
     * </ol>
     */
    static String normalizeTrace(String s) {
        s = GOROUTINE_ID.matcher(s).replaceAll("goroutine N");
        StringBuilder sb = new StringBuilder();
        for (String line : s.split("\n", -1)) {
            if (!line.startsWith("\t")) line = FRAME_ARGS.matcher(line).replaceAll("(...)");
            sb.append(line).append('\n');
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    static final Pattern GOROUTINE_ID = Pattern.compile("\\bgoroutine \\d+");
    static final Pattern FRAME_ARGS = Pattern.compile("\\([0-9a-fA-Fx?,{}. ]+\\)$");

    /**
     * Stderr normalization for fatal errors ("fatal error: stack overflow"): only the lines before the first
     * blank line are compared, the message block; the dump after it ("runtime stack:", every goroutine with
     * fp=/sp= stack addresses and gp=/mp= pointers) is dropped. In the block, hex numbers become "0x_":
     * "runtime: sp=0xc0001e0360 stack=[0xc0001e0000, 0xc0002e0000]" has stack addresses, which Go 1.26+
     * randomizes natively from run to run.
     */
    static String stderrHead(String s) {
        int blank = s.indexOf("\n\n");
        if (blank >= 0) s = s.substring(0, blank + 1);
        return M_ID.matcher(HEX.matcher(s).replaceAll("0x_")).replaceAll("m=_");
    }

    static final Pattern HEX = Pattern.compile("\\b0x[0-9a-fA-F]+");
    /** "PC=0x... m=2 sigcode=2": which M (thread) took the signal depends on scheduling, natively too. */
    static final Pattern M_ID = Pattern.compile("\\bm=\\d+");

    /** Null if equal, else where the outputs first differ, with a few lines of each. */
    static String diff(String expected, String actual) {
        if (expected.equals(actual)) return null;
        List<String> a = lines(expected), b = lines(actual);
        int i = 0;
        while (i < a.size() && i < b.size() && a.get(i).equals(b.get(i))) i++;
        StringBuilder sb = new StringBuilder();
        sb.append("differs at line ").append(i + 1).append(" (native ").append(a.size()).append(" lines, goemu ")
                .append(b.size()).append(" lines):");
        if (i == a.size() && i == b.size()) sb.append(" only in the final newline");
        appendLines(sb, "native | ", a, i, 4);
        appendLines(sb, "goemu  | ", b, i, 8);
        return sb.toString();
    }

    private static void appendLines(StringBuilder sb, String tag, List<String> lines, int from, int max) {
        if (from >= lines.size()) {
            sb.append("\n    ").append(tag).append("<end of output>");
            return;
        }
        for (int j = from; j < lines.size() && j < from + max; j++) sb.append("\n    ").append(tag).append(clip(lines.get(j), 200));
        if (lines.size() > from + max) sb.append("\n    ").append(tag).append("... ").append(lines.size() - from - max).append(" more lines");
    }

    private static List<String> lines(String s) {
        if (s.isEmpty()) return List.of();
        List<String> l = new ArrayList<>(Arrays.asList(s.split("\n", -1)));
        if (l.get(l.size() - 1).isEmpty()) l.remove(l.size() - 1);
        return l;
    }

    private static String clip(String s, int max) {
        s = s.replace("\t", "\\t").replace("\r", "\\r");
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    // ---------------------------------------------------------------------------------------------------
    // Processes.

    /**
     * signalled: null if no signal was to be sent, else when it was sent or why not; firstOutput: seconds
     * from the start to the first byte on stdout if exec watched for it (else NaN).
     */
    record Exec(int exit, String stdout, String stderr, double seconds, boolean timedOut, String signalled, double firstOutput) {}

    /**
     * Runs a command with exactly the given environment, stdin from a file (or /dev/null), stdout and stderr
     * into files in dir (tag.stdout, tag.stderr; temporary files if tag is null); kills it and everything it
     * started after the timeout.
     */
    static Exec exec(List<String> cmd, Map<String, String> env, Path stdin, Path dir, String tag, Duration timeout)
            throws IOException, InterruptedException {
        return exec(cmd, env, stdin, dir, tag, timeout, null, null);
    }

    /**
     * As above, watching stdout while the process runs: if signal is not null, runs {@code kill -signal PID}
     * once a line "ready" is on it; if onOutput is not null, runs it (exactly once) when the first byte
     * arrives, or when the process ends or times out without output.
     */
    static Exec exec(List<String> cmd, Map<String, String> env, Path stdin, Path dir, String tag, Duration timeout, String signal,
            Runnable onOutput) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path out = tag != null ? dir.resolve(tag + ".stdout") : Files.createTempFile(dir, "exec", ".stdout");
        Path err = tag != null ? dir.resolve(tag + ".stderr") : Files.createTempFile(dir, "exec", ".stderr");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectInput(stdin != null ? stdin.toFile() : new File("/dev/null"))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        long start = System.nanoTime();
        long end = start + timeout.toNanos();
        String signalled = signal == null ? null : "no \"ready\" on stdout, no SIG" + signal + " sent";
        boolean outputSeen = onOutput == null;
        double firstOutput = Double.NaN;
        Process p;
        boolean done;
        try {
            p = pb.start();
            boolean readySeen = signal == null;
            while ((!outputSeen || !readySeen) && p.isAlive() && System.nanoTime() < end) {
                byte[] o = Files.readAllBytes(out);
                if (!outputSeen && o.length > 0) {
                    outputSeen = true;
                    firstOutput = (System.nanoTime() - start) / 1e9;
                    onOutput.run();
                }
                if (!readySeen && isReady(o)) {
                    readySeen = true;
                    signalled = kill(p, signal, start);
                }
                if (!outputSeen || !readySeen) Thread.sleep(20);
            }
            done = p.waitFor(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
        } finally {
            if (!outputSeen) onOutput.run();
        }
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int exit = done ? p.exitValue() : -1;
        String o = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
        String e = new String(Files.readAllBytes(err), StandardCharsets.UTF_8);
        if (tag == null) {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
        return new Exec(exit, o, e, seconds, !done, signalled, firstOutput);
    }

    /** Whether stdout so far has a line "ready". */
    static boolean isReady(byte[] stdout) {
        String o = new String(stdout, StandardCharsets.ISO_8859_1);
        return o.startsWith("ready\n") || o.contains("\nready\n");
    }

    /** Runs kill -signal PID; says when, or why it failed. */
    static String kill(Process p, String signal, long start) throws IOException, InterruptedException {
        double at = (System.nanoTime() - start) / 1e9;
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).redirectErrorStream(true).start();
        String killOut = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (kill.waitFor() != 0) return "kill -" + signal + " " + p.pid() + " failed: " + killOut;
        return String.format(Locale.ROOT, "SIG%s sent %.2f s after start", signal, at);
    }

    // ---------------------------------------------------------------------------------------------------
    // Small helpers.

    /** The tests that run goemu itself need the jar ./build.sh makes; without it they are skipped, saying so. */
    static void assumeBuilt() {
        Assumptions.assumeTrue(Files.isRegularFile(JAR), JAR + " is missing: run ./build.sh first");
    }

    static String prop(String key, String def) {
        String v = System.getProperty(key);
        // An unset ${env.X} in the pom reaches us as the literal text.
        return v == null || v.isBlank() || v.startsWith("${") ? def : v.trim();
    }

    static List<String> split(String s, String regex) {
        return Arrays.stream(s.trim().split(regex)).filter(x -> !x.isEmpty()).toList();
    }

    static Runnable once(Runnable r) {
        AtomicBoolean ran = new AtomicBoolean();
        return () -> {
            if (ran.compareAndSet(false, true)) r.run();
        };
    }

    static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) return true;
        }
        return false;
    }

    /** The testdata module directory: Surefire's working directory, or found from the repository root. */
    static Path moduleDir() {
        Path cwd = Path.of("").toAbsolutePath();
        if (Files.isDirectory(cwd.resolve("go")) && Files.isRegularFile(cwd.resolve("pom.xml"))) return cwd;
        return cwd.resolve("testdata");
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
