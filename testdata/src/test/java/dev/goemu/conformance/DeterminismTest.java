package dev.goemu.conformance;

import static dev.goemu.conformance.ConformanceTest.CASE_TIMEOUT;
import static dev.goemu.conformance.ConformanceTest.LAUNCHER;
import static dev.goemu.conformance.ConformanceTest.TARGET;
import static dev.goemu.conformance.ConformanceTest.exec;
import static org.junit.jupiter.api.Assertions.fail;

import dev.goemu.conformance.ConformanceTest.Case;
import dev.goemu.conformance.ConformanceTest.Exec;
import dev.goemu.conformance.ConformanceTest.Release;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code goemu run --deterministic}: every conformance program (the cases the harness selects, for the first
 * release it selects, by default the machine's Go), run {@code goemu.det.runs} times (default 5) with {@code --seed 7 --strace},
 * gives identical stdout, stderr (the trace included) and exit status each time, which is the native run's exit
 * status; seed 8 gives its own identical set. Cases that need a signal from outside are skipped: where a host
 * signal lands is not reproducible (goemu says so); so are those whose inputs come from the host's own
 * concurrency ({@link #HOST_TIMED}).
 */
class DeterminismTest {
    /**
     * Cases whose syscalls depend on host timing, which docs/ARCHITECTURE.md lists as inputs: iocalls uses TCP over
     * the host's loopback (the host picks the ephemeral ports and says when data has arrived); exec and exec-native
     * run native children (sh, tr, sleep: the host says when they end, and the trace shows their host pids);
     * procself opens /proc/self/fd entries of pipes, FIFOs whose opens run on a helper thread. Emulated children
     * (fork, exec-emulated) take turns with their parent on the run's baton, so they are deterministic.
     */
    static final Set<String> HOST_TIMED = Set.of("iocalls", "exec", "exec-native", "procself");

    static final int RUNS = Integer.parseInt(ConformanceTest.prop("goemu.det.runs", "5"));
    static final long[] SEEDS = {7, 8};

    @TestFactory
    List<DynamicTest> sameSeedSameRun() throws Exception {
        ConformanceTest.assumeBuilt();
        Release r = ConformanceTest.releases().getFirst();
        List<Case> cases = ConformanceTest.selectedCases().stream()
                .filter(k -> k.signalAfterReady == null && k.nativePrefix.isEmpty() && !HOST_TIMED.contains(k.name)).toList();
        Set<String> programs = cases.stream().map(k -> k.program).collect(Collectors.toCollection(LinkedHashSet::new));
        String buildError = ConformanceTest.build(r, programs);
        if (buildError != null) fail("build with " + r.go() + " failed:\n" + buildError);

        ExecutorService lanes = Executors.newFixedThreadPool(ConformanceTest.CPU_LANES);
        Map<String, Future<String>> results = new LinkedHashMap<>();
        for (Case k : cases) {
            for (long seed : SEEDS) results.put(r.version() + "/" + k.name + "/seed" + seed, lanes.submit(() -> check(r, k, seed)));
        }
        lanes.shutdown();
        List<DynamicTest> tests = new ArrayList<>();
        results.forEach((id, f) -> tests.add(DynamicTest.dynamicTest(id, () -> {
            String problem = f.get();
            if (problem != null) fail(id + ": " + problem);
        })));
        return tests;
    }

    /** Null if every run of {@code k} with {@code seed} gave the same outputs and the native exit status. */
    static String check(Release r, Case k, long seed) throws Exception {
        Path bin = TARGET.resolve("bin").resolve(r.version()).resolve(k.program);
        Path dir = TARGET.resolve("det-runs").resolve(r.version()).resolve(k.name).resolve("seed" + seed);
        Path stdin = null;
        if (k.stdin != null) {
            Files.createDirectories(dir);
            stdin = dir.resolve("stdin");
            Files.writeString(stdin, k.stdin);
        }
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString(), "run", "--seed", Long.toString(seed), "--strace"));
        cmd.addAll(k.goemuOptions);
        k.env.forEach((key, v) -> cmd.addAll(List.of("--env", key + "=" + v)));
        cmd.add("--");
        cmd.add(bin.toString());
        cmd.addAll(k.args);
        Exec first = null;
        for (int i = 0; i < RUNS; i++) {
            Exec e = exec(cmd, new LinkedHashMap<>(System.getenv()), stdin, dir, "run" + i, CASE_TIMEOUT);
            if (e.timedOut()) return "run " + i + " timed out";
            if (first == null) {
                first = e;
                if (e.exit() != k.nativeExit) return "exit " + e.exit() + ", natively " + k.nativeExit + "; outputs in " + dir;
                continue;
            }
            if (e.exit() != first.exit()) return "run " + i + " exited " + e.exit() + ", run 0 " + first.exit();
            if (!e.stdout().equals(first.stdout())) return "stdout of run " + i + " differs from run 0's in " + dir;
            if (!e.stderr().equals(first.stderr())) {
                return "stderr (with the trace) of run " + i + " differs from run 0's in " + dir + ":\n"
                        + ConformanceTest.diff(first.stderr(), e.stderr());
            }
        }
        return null;
    }
}
