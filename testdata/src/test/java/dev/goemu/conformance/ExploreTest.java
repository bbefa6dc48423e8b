package dev.goemu.conformance;

import static dev.goemu.conformance.ConformanceTest.CASE_TIMEOUT;
import static dev.goemu.conformance.ConformanceTest.LAUNCHER;
import static dev.goemu.conformance.ConformanceTest.TARGET;
import static dev.goemu.conformance.ConformanceTest.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.goemu.conformance.ConformanceTest.Exec;
import dev.goemu.conformance.ConformanceTest.Release;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code goemu explore} finds each concurrency bug of testdata/go (lostupdate, maprace, ordering, deadlock, and
 * the flaky test of flakytest, a {@code go test -c} binary) within the stated number of seeds, for the
 * machine's Go release (the first the harness selects): the run with the failing seed fails identically 5
 * times out of 5, and explore over the fixed variant finds no failure. The bounds hold with a margin for the
 * releases measured (go1.26: first failing seeds 2, 0, 4 with PCT, 14, 2 with PCT); another release compiles
 * other code, so its seeds differ.
 */
class ExploreTest {
    /** A program with a bug; a goTest program is a package built with go test -c (its binary: program.test). */
    record Bug(String program, boolean goTest, List<String> strategy, int bound, int fixedRuns, List<String> args,
            List<String> fixedArgs) {
        Bug(String program, List<String> strategy, int bound, int fixedRuns) {
            this(program, false, strategy, bound, fixedRuns, List.of(), List.of("fixed"));
        }

        String binary() { return goTest ? program + ".test" : program; }
    }

    static final List<Bug> BUGS = List.of(
            new Bug("lostupdate", List.of(), 20, 20),
            new Bug("maprace", List.of(), 20, 20),
            new Bug("ordering", List.of("--strategy", "pct"), 60, 30),
            new Bug("deadlock", List.of(), 100, 30),
            new Bug("flakytest", true, List.of("--strategy", "pct"), 30, 30,
                    List.of("-test.run", "^TestFlaky$"), List.of("-test.run", "^TestFixed$")));
    static final Pattern SEED = Pattern.compile("^(?:exit [1-9]\\d*|timeout).*--seed (\\d+)", Pattern.MULTILINE);

    @TestFactory
    List<DynamicTest> findsEachBug() throws Exception {
        ConformanceTest.assumeBuilt();
        Release r = ConformanceTest.releases().getFirst();
        LinkedHashSet<String> programs = new LinkedHashSet<>();
        for (Bug b : BUGS) if (!b.goTest()) programs.add(b.program());
        String buildError = ConformanceTest.build(r, programs);
        for (Bug b : BUGS) if (b.goTest() && buildError == null) buildError = buildTest(r, b);
        if (buildError != null) fail("build with " + r.go() + " failed:\n" + buildError);
        List<DynamicTest> tests = new ArrayList<>();
        for (Bug b : BUGS) tests.add(DynamicTest.dynamicTest(r.version() + "/" + b.program(), () -> check(r, b)));
        return tests;
    }

    static void check(Release r, Bug b) throws Exception {
        Path dir = TARGET.resolve("explore-runs").resolve(r.version()).resolve(b.program());
        Duration timeout = CASE_TIMEOUT.multipliedBy(10);

        Exec found = goemu(dir, "explore", timeout, b, List.of("--runs", Integer.toString(b.bound()), "--until-failure", "--jobs", "2"),
                b.args());
        Matcher m = SEED.matcher(found.stdout());
        assertTrue(found.exit() == 1 && m.find(), b.program() + ": explore found no failing seed in " + b.bound()
                + " runs:\n" + found.stdout() + found.stderr());
        String seed = m.group(1);

        Exec first = null;
        for (int i = 0; i < 5; i++) {
            Exec e = goemu(dir, "rerun" + i, CASE_TIMEOUT, b, List.of("--seed", seed), b.args());
            assertNotEquals(0, e.exit(), b.program() + " seed " + seed + ": run " + i + " did not fail");
            if (first == null) first = e;
            assertEquals(first.exit(), e.exit(), "exit status of run " + i);
            assertEquals(first.stdout(), e.stdout(), "stdout of run " + i);
            assertEquals(first.stderr(), e.stderr(), "stderr of run " + i);
        }

        Exec fixed = goemu(dir, "fixed", timeout, b, List.of("--runs", Integer.toString(b.fixedRuns()), "--jobs", "2"), b.fixedArgs());
        assertEquals(0, fixed.exit(), b.program() + " fixed: explore found a failure:\n" + fixed.stdout() + fixed.stderr());
    }

    /** goemu explore (tag "explore" or "fixed") or goemu run, with the bug's strategy and these options. */
    static Exec goemu(Path dir, String tag, Duration timeout, Bug b, List<String> options, List<String> guestArgs) throws Exception {
        boolean explore = !tag.startsWith("rerun");
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString(), explore ? "explore" : "run"));
        cmd.addAll(options);
        cmd.addAll(b.strategy());
        cmd.add("--");
        cmd.add(TARGET.resolve("bin").resolve(dir.getParent().getFileName().toString()).resolve(b.binary()).toString());
        cmd.addAll(guestArgs);
        Exec e = exec(cmd, new LinkedHashMap<>(System.getenv()), null, dir, tag, timeout);
        assertTrue(!e.timedOut(), String.join(" ", cmd) + " timed out");
        return e;
    }

    /** go test -c of the bug's package into the release's bin directory; null, or the build's log. */
    static String buildTest(Release r, Bug b) throws Exception {
        Path out = TARGET.resolve("bin").resolve(r.version()).resolve(b.binary());
        return ConformanceTest.goCommand(List.of(r.go(), "test", "-c", "-o", out.toString(), "./" + b.program()));
    }
}
