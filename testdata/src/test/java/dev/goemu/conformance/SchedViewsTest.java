package dev.goemu.conformance;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live G/M/P views of {@code goemu run} against the Go runtime's own account of itself, for every Go release under
 * test and a stripped ({@code -s -w}) build of the first:
 * <ul>
 *   <li>the scheduler snapshot agrees, field by field, with what the runtime prints under
 *       {@code GODEBUG=schedtrace=1000[,scheddetail=1]} at the same moments ({@link SchedTraceProbe} takes it at every
 *       call of {@code runtime.schedtrace}): on the seed program (idle: every goroutine sleeps) and on
 *       {@code schedspin} (one P kept busy with four goroutines queued behind it);</li>
 *   <li>{@code goemu run --sched-trace} shows as many Ps as {@code --cpus} says, 1 and 3;</li>
 *   <li>{@code goemu run --trace-goroutines} on {@code lifecycle} records the five workers the program starts, every
 *       goroutine's statuses in legal order, and a Chrome trace that parses, whose P tracks run one goroutine at a time.</li>
 * </ul>
 */
class SchedViewsTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final Path OUT = ConformanceTest.TARGET.resolve("sched-views");
    private static final List<String> PROGRAMS = List.of("seed", "schedspin", "lifecycle");

    /** Builds of the test programs with one release ("go1.27.0"); {@code name} tells a stripped build apart. */
    record Build(String name, String version, Path dir) {
        Path program(String name) {
            return dir.resolve(name);
        }

        /**
         * How much holding one runtime mutex adds to m.locks: 1, and from Go 1.27 16 ({@code mutexMLocksDelta} in
         * lock_spinbit.go), which leaves room below for the mutex profiler's count.
         */
        int mutexLocks() {
            Matcher m = Pattern.compile("^go1\\.(\\d+)").matcher(version);
            return m.find() && Integer.parseInt(m.group(1)) >= 27 ? 16 : 1;
        }
    }

    @TestFactory
    Stream<DynamicTest> schedViews() throws Exception {
        ConformanceTest.assumeBuilt();
        List<Build> builds = new ArrayList<>();
        for (ConformanceTest.Release r : ConformanceTest.releases()) {
            builds.add(build(r, false));
            if (builds.size() == 1) builds.add(build(r, true));
        }
        // Two runs at a time, like the conformance suite's CPU lanes; each test waits for its own.
        ExecutorService lanes = Executors.newFixedThreadPool(2, ConformanceTest.daemon("sched-views"));
        List<DynamicTest> tests = new ArrayList<>();
        for (Build b : builds) {
            Future<?> seed = lanes.submit(() -> schedtraceAgrees(b, "seed", 2, "schedtrace=1000,scheddetail=1"));
            Future<?> spin = lanes.submit(() -> schedtraceAgrees(b, "schedspin", 1, "schedtrace=500,asyncpreemptoff=1"));
            Future<?> spinDetail = lanes.submit(() -> schedtraceAgrees(b, "schedspin", 1,
                    "schedtrace=500,scheddetail=1,asyncpreemptoff=1"));
            Future<?> cpus = lanes.submit(() -> pCountIsCpus(b));
            Future<?> goroutines = lanes.submit(() -> goroutineTrace(b));
            tests.add(DynamicTest.dynamicTest(b.name() + "/schedtrace seed scheddetail", () -> await(seed)));
            tests.add(DynamicTest.dynamicTest(b.name() + "/schedtrace schedspin", () -> await(spin)));
            tests.add(DynamicTest.dynamicTest(b.name() + "/schedtrace schedspin scheddetail", () -> await(spinDetail)));
            tests.add(DynamicTest.dynamicTest(b.name() + "/sched-trace --cpus 1 and 3", () -> await(cpus)));
            tests.add(DynamicTest.dynamicTest(b.name() + "/trace-goroutines lifecycle", () -> await(goroutines)));
            if (b.name().endsWith("-stripped")) {
                Future<?> unavailable = lanes.submit(() -> unavailableAndMistakes(b));
                tests.add(DynamicTest.dynamicTest(b.name() + "/views unavailable, option mistakes", () -> await(unavailable)));
            }
        }
        lanes.shutdown();
        return tests.stream();
    }

    // ---- (1) the snapshot against GODEBUG=schedtrace --------------------------------------------------------------

    /** What the probe wrote for one call of schedtrace. */
    record ProbeBlock(boolean stable, long tracingM, List<String> lines) {}

    private static final Pattern SCHED_TIME = Pattern.compile("^SCHED \\d+ms: ");

    Void schedtraceAgrees(Build b, String program, int cpus, String godebug) throws Exception {
        String tag = b.name() + "-" + program + (godebug.contains("scheddetail") ? "-detail" : "");
        Path probeOut = OUT.resolve(tag + ".probe");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String classpath = ConformanceTest.JAR + File.pathSeparator + ConformanceTest.MODULE.resolve("target/test-classes");
        List<String> cmd = List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-Dgoemu.hooks.lib=" + ConformanceTest.REPO.resolve("emulator/target/native/libgoemu_hooks.so"),
                "-cp", classpath, SchedTraceProbe.class.getName(), probeOut.toString(), Integer.toString(cpus), godebug,
                b.program(program).toString());
        ConformanceTest.Exec e = ConformanceTest.exec(cmd, new LinkedHashMap<>(System.getenv()), null, OUT, tag, TIMEOUT);
        assertEquals(0, e.exit(), "probe failed:\n" + e.stderr());

        List<ProbeBlock> ours = probeBlocks(Files.readString(probeOut));
        List<List<String>> theirs = guestBlocks(e.stderr());
        // A block is written when schedtrace returns: the guest may have begun one more before it exited.
        assertTrue(theirs.size() == ours.size() || theirs.size() == ours.size() + 1,
                ours.size() + " calls seen, " + theirs.size() + " printed:\n" + e.stderr());
        int compared = 0;
        List<String> moving = new ArrayList<>();
        for (int k = 0; k < ours.size(); k++) {
            ProbeBlock block = ours.get(k);
            List<String> printed = theirs.get(k);
            if (!block.stable()) {
                moving.add(printed.getFirst());
                continue;
            }
            assertEquals(String.join("\n", normalize(block.lines(), -1, 0)),
                    String.join("\n", normalize(printed, block.tracingM(), b.mutexLocks())),
                    tag + ": call " + k + " of schedtrace: goemu's snapshot (expected) against the runtime's own line (actual)");
            compared++;
        }
        // The runtime is still starting at the first call, and the programs' states hold still after it.
        assertTrue(compared >= 2,
                tag + ": only " + compared + " calls of schedtrace saw a state that held still; in motion: " + moving);
        String all = e.stderr();
        if (program.equals("seed")) {
            assertTrue(all.contains("  G1: status=4(sleep)"), "the seed's main goroutine sleeps:\n" + all);
        } else {
            // Four goroutines wait behind main, the last one in runnext; one of them may have run to its channel send
            // if main was preempted at the call of spin (it had run for longer than sysmon's 10 ms by then).
            Pattern queued = Pattern.compile(godebug.contains("scheddetail") ? "P0: .* runqsize=[23] "
                    : "runqueue=0 \\[ ?[23] ?]");
            assertTrue(queued.matcher(all).find(), "schedspin's P holds goroutines in its run queue:\n" + all);
        }
        return null;
    }

    private static List<ProbeBlock> probeBlocks(String text) {
        List<ProbeBlock> out = new ArrayList<>();
        List<String> lines = null;
        boolean stable = false;
        long m = -1;
        for (String line : text.split("\n")) {
            if (line.startsWith("call ")) {
                String[] f = line.split(" ");
                stable = f[1].equals("stable");
                m = Long.parseLong(f[2].substring(1));
                lines = new ArrayList<>();
            } else if (line.equals("end")) {
                out.add(new ProbeBlock(stable, m, lines));
            } else if (lines != null) {
                lines.add(line);
            }
        }
        return out;
    }

    /** The guest's stderr cut into schedtrace blocks: a SCHED line and the indented P, M, G lines after it. */
    private static List<List<String>> guestBlocks(String stderr) {
        List<List<String>> out = new ArrayList<>();
        for (String line : stderr.split("\n")) {
            if (line.startsWith("SCHED ")) out.add(new ArrayList<>(List.of(line)));
            else if (line.startsWith("  ") && !out.isEmpty()) out.getLast().add(line);
        }
        return out;
    }

    /**
     * The lines with the time since the first trace left out (the probe's clock is not the runtime's). For the M that
     * runs schedtrace ({@code tracingM}, -1: none), the printed m.locks counts sched.lock, which schedtrace holds
     * while it reads, and the probe's snapshot, taken at its entry, does not (print evaluates its arguments before it
     * takes the print lock, so that one is not counted): {@code mutexLocks} less.
     */
    private static List<String> normalize(List<String> lines, long tracingM, int mutexLocks) {
        Pattern locks = Pattern.compile("^(  M" + tracingM + ": .* locks=)(\\d+)( .*)$");
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            Matcher m = locks.matcher(line);
            if (tracingM >= 0 && m.matches()) line = m.group(1) + (Long.parseLong(m.group(2)) - mutexLocks) + m.group(3);
            out.add(SCHED_TIME.matcher(line).replaceFirst("SCHED: "));
        }
        return out;
    }

    // ---- (2) as many Ps as --cpus ----------------------------------------------------------------------------------

    private static final Pattern GOEMU_SCHED = Pattern.compile(
            "^goemu: SCHED \\d+ms: gomaxprocs=(\\d+) idleprocs=(\\d+) .* runqueue=\\d+ \\[ ?([\\d ]*?) ?]");

    Void pCountIsCpus(Build b) throws Exception {
        for (int cpus : new int[] {1, 3}) {
            ConformanceTest.Exec e = goemu(b.name() + "-cpus" + cpus, List.of("run", "--cpus", Integer.toString(cpus),
                    "--sched-trace", "1s", b.program("seed").toString()));
            assertEquals(0, e.exit(), e.stderr());
            assertEquals("Hello, world!\nHello, goroutine world!\n", e.stdout());
            int lines = 0, allIdle = 0;
            for (String line : e.stderr().split("\n")) {
                Matcher m = GOEMU_SCHED.matcher(line);
                if (!m.find()) continue;
                lines++;
                assertEquals(cpus, Integer.parseInt(m.group(1)), "gomaxprocs with --cpus " + cpus + ": " + line);
                assertEquals(cpus, m.group(3).split(" ").length, "one run queue per P with --cpus " + cpus + ": " + line);
                if (Integer.parseInt(m.group(2)) == cpus) allIdle++;
            }
            // The seed sleeps 6 s: five or six lines, and while both its goroutines sleep every P is idle.
            assertTrue(lines >= 5, "goemu: SCHED lines:\n" + e.stderr());
            assertTrue(allIdle >= 3, "idleprocs=" + cpus + " while the seed sleeps:\n" + e.stderr());
        }
        return null;
    }

    // ---- (3) the goroutine trace -----------------------------------------------------------------------------------

    /** Status changes the runtime makes (runtime2.go's comments and every casgstatus call site). */
    private static final Set<String> LEGAL = Set.of("runnable>running", "running>runnable", "running>waiting",
            "running>syscall", "running>dead", "running>preempted", "waiting>runnable", "syscall>running",
            "syscall>runnable", "preempted>waiting");

    @SuppressWarnings("unchecked")
    Void goroutineTrace(Build b) throws Exception {
        int cpus = 2;
        Path jsonl = OUT.resolve(b.name() + "-lifecycle.jsonl");
        Path chrome = OUT.resolve(b.name() + "-lifecycle.trace.json");
        Files.deleteIfExists(jsonl);
        Files.deleteIfExists(chrome);
        ConformanceTest.Exec e = goemu(b.name() + "-lifecycle", List.of("run", "--cpus", Integer.toString(cpus),
                "--trace-goroutines", jsonl.toString(), b.program("lifecycle").toString()));
        assertEquals(0, e.exit(), e.stderr());
        assertEquals("workers 5 sum 2870\n", e.stdout());
        assertTrue(e.stderr().contains("goemu: goroutine trace: ") && e.stderr().contains(chrome.toString()), e.stderr());

        List<Map<String, Object>> events = Files.readAllLines(jsonl).stream().map(Json::object).toList();
        Map<Long, String> entries = new HashMap<>();
        Map<Long, String> statuses = new HashMap<>();
        long lastTime = Long.MIN_VALUE;
        int sleeps = 0;
        for (Map<String, Object> ev : events) {
            long goid = (Long) ev.get("goid");
            long time = (Long) ev.get("time_ns");
            assertTrue(time >= lastTime, "events in time order: " + ev);
            lastTime = time;
            if (ev.get("event").equals("create")) {
                assertEquals(null, entries.put(goid, (String) ev.get("entry")), "goroutine " + goid + " created twice");
                if (ev.get("entry").equals("main.worker")) {
                    assertEquals(1L, ev.get("parent_goid"), "main creates the workers: " + ev);
                }
                statuses.put(goid, (String) ev.get("status"));
                continue;
            }
            String before = statuses.get(goid);
            assertTrue(before != null, "goroutine " + goid + " changes status before its creation: " + ev);
            assertEquals(before, ev.get("from"), "goroutine " + goid + "'s previous status: " + ev);
            assertTrue(LEGAL.contains(ev.get("from") + ">" + ev.get("to")), "a transition the runtime makes: " + ev);
            statuses.put(goid, (String) ev.get("to"));
            if ("main.worker".equals(entries.get(goid)) && "sleep".equals(ev.get("reason"))) sleeps++;
        }
        assertEquals("runtime.main", entries.get(1L), "goroutine 1 runs runtime.main");
        List<Long> workers = entries.entrySet().stream().filter(x -> x.getValue().equals("main.worker"))
                .map(Map.Entry::getKey).sorted().toList();
        assertEquals(5, workers.size(), "lifecycle starts five workers: " + entries);
        for (long w : workers) assertEquals("dead", statuses.get(w), "worker " + w + " returned");
        assertTrue(sleeps >= 1, "workers wait in time.Sleep (wait reason \"sleep\")");

        // The Chrome trace: valid JSON, Ps named P0..P<cpus-1>, and a P or an M runs one goroutine at a time.
        Map<String, Object> trace = Json.object(Files.readString(chrome));
        List<Map<String, Object>> traceEvents = (List<Map<String, Object>>) (List<?>) trace.get("traceEvents");
        Map<Long, String> processes = new HashMap<>();
        Map<String, String> tracks = new HashMap<>();
        Map<String, List<double[]>> slices = new HashMap<>();
        for (Map<String, Object> ev : traceEvents) {
            long pid = (Long) ev.get("pid");
            Map<String, Object> args = (Map<String, Object>) ev.get("args");
            switch ((String) ev.get("ph")) {
                case "M" -> {
                    if (ev.get("name").equals("process_name")) processes.put(pid, (String) args.get("name"));
                    if (ev.get("name").equals("thread_name")) tracks.put(pid + "/" + ev.get("tid"), (String) args.get("name"));
                }
                case "X" -> slices.computeIfAbsent(pid + "/" + ev.get("tid"), k -> new ArrayList<>())
                        .add(new double[] {number(ev.get("ts")), number(ev.get("dur"))});
                case "i" -> assertEquals("create", ev.get("cat"), "instant events mark creations: " + ev);
                default -> throw new AssertionError("unexpected event " + ev);
            }
        }
        assertEquals(Map.of(1L, "Ps", 2L, "Ms", 3L, "Goroutines"), processes);
        List<String> pTracks = tracks.entrySet().stream().filter(t -> t.getKey().startsWith("1/"))
                .map(Map.Entry::getValue).sorted().toList();
        assertTrue(!pTracks.isEmpty() && pTracks.stream().allMatch(n -> n.matches("P[0-" + (cpus - 1) + "]")),
                "P tracks: " + pTracks);
        for (long w : workers) {
            assertEquals("G" + w + " main.worker", tracks.get("3/" + w), "worker " + w + " has its own track");
        }
        for (var track : slices.entrySet()) {
            if (track.getKey().startsWith("3/")) continue; // a goroutine's own track: its statuses, back to back
            List<double[]> s = track.getValue();
            s.sort(Comparator.comparingDouble(x -> x[0]));
            for (int i = 1; i < s.size(); i++) {
                // Times are printed in µs with three decimals: allow the rounding of both ends.
                assertTrue(s.get(i - 1)[0] + s.get(i - 1)[1] <= s.get(i)[0] + 0.002,
                        "track " + tracks.get(track.getKey()) + " runs one goroutine at a time, at " + s.get(i)[0]);
            }
        }
        assertTrue(slices.keySet().stream().anyMatch(k -> k.startsWith("1/")), "goroutines ran on Ps");
        return null;
    }

    private static double number(Object json) {
        return ((Number) json).doubleValue();
    }

    // ---- (4) where the views cannot be had, and mistakes ----------------------------------------------------------

    /**
     * A stripped binary whose Go release goemu has no built-in layout for has no scheduler views: each view says so in
     * one line and the program runs as usual. Stripping the build info too (the section renamed) gives that case with
     * any release. Option mistakes end in one line and status 2, before anything runs.
     */
    Void unavailableAndMistakes(Build b) throws Exception {
        byte[] elf = Files.readAllBytes(b.program("seed"));
        byte[] name = ".go.buildinfo\0".getBytes(StandardCharsets.ISO_8859_1);
        int at = indexOf(elf, name);
        assertTrue(at >= 0, "the section name table names .go.buildinfo");
        elf[at + name.length - 2] = 'X';
        Path anonymous = Files.write(OUT.resolve("seed-without-buildinfo"), elf);
        anonymous.toFile().setExecutable(true);
        Path trace = OUT.resolve("unavailable.jsonl");
        Files.deleteIfExists(trace);
        ConformanceTest.Exec e = goemu("unavailable", List.of("run", "--sched-trace", "1s", "--trace-goroutines",
                trace.toString(), anonymous.toString()));
        assertEquals(0, e.exit(), e.stderr());
        assertEquals("Hello, world!\nHello, goroutine world!\n", e.stdout());
        String why = "no DWARF and no built-in layout for an unknown Go release (no build info); "
                + "rebuild without -w to see the scheduler";
        assertEquals("goemu: --sched-trace unavailable: " + why + "\ngoemu: --trace-goroutines unavailable: " + why + "\n",
                e.stderr());
        assertTrue(!Files.exists(trace) && !Files.exists(OUT.resolve("unavailable.trace.json")), "no trace files");

        Map<List<String>, String> mistakes = Map.of(
                List.of("--sched-trace", "1"), "goemu: --sched-trace wants a duration such as 500ms, 1s or 2.5s, got '1'",
                List.of("--sched-trace", "10us"), "goemu: --sched-trace must be at least 1ms, got '10us'",
                List.of("--sched-detail"), "goemu: --sched-detail needs --sched-trace DURATION",
                List.of("--trace-goroutines", "/nonexistent/dir/t.jsonl"),
                "goemu: --trace-goroutines: cannot write /nonexistent/dir/t.jsonl: no such directory");
        for (var m : mistakes.entrySet()) {
            List<String> args = new ArrayList<>(List.of("run"));
            args.addAll(m.getKey());
            args.add(b.program("seed").toString());
            ConformanceTest.Exec r = goemu("mistake", args);
            assertEquals(2, r.exit(), m.getKey() + ": " + r.stderr());
            assertEquals(m.getValue(), r.stderr().strip(), m.getKey().toString());
            assertEquals("", r.stdout(), "nothing ran");
        }
        return null;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static Build build(ConformanceTest.Release r, boolean stripped) throws Exception {
        String name = r.version() + (stripped ? "-stripped" : "");
        Path dir = OUT.resolve("bin").resolve(name);
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(List.of(r.go(), "build", "-o", dir + "/"));
        if (stripped) cmd.add("-ldflags=-s -w");
        for (String p : PROGRAMS) cmd.add("./" + p);
        ConformanceTest.Exec e = ConformanceTest.exec(cmd, ConformanceTest.goEnv(), null, ConformanceTest.MODULE.resolve("go"),
                null, ConformanceTest.BUILD_TIMEOUT);
        assertEquals(0, e.exit(), String.join(" ", cmd) + "\n" + e.stdout() + e.stderr());
        return new Build(name, r.version(), dir);
    }

    private static ConformanceTest.Exec goemu(String tag, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ConformanceTest.LAUNCHER.toString());
        cmd.addAll(args);
        return ConformanceTest.exec(cmd, new LinkedHashMap<>(System.getenv()), null, OUT, tag, TIMEOUT);
    }

    private static void await(Future<?> run) throws Throwable {
        try {
            run.get();
        } catch (ExecutionException e) {
            throw e.getCause();
        }
    }
}
