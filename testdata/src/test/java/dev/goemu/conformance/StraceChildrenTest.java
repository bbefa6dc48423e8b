package dev.goemu.conformance;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --strace} follows children as {@code strace -f} does: the exec program starts one emulated child (itself)
 * under --strace, and the one stream has the parent's and the child's lines, each prefixed with its process's pid
 * and thread's tid: the child's execve, both exit_group calls and both "+++ exited" lines.
 */
class StraceChildrenTest {
    private static final Pattern EXECVE = Pattern.compile("(?m)^\\[(\\d+)/\\1] execve\\(\"[^\"]*/exec\", .*\\) = 0$");

    @TestFactory
    Stream<DynamicTest> straceFollowsChildren() throws Exception {
        ConformanceTest.assumeBuilt();
        return ConformanceTest.releases().stream().map(r -> DynamicTest.dynamicTest(r.version(), () -> trace(r)));
    }

    private static void trace(ConformanceTest.Release r) throws Exception {
        assertNull(ConformanceTest.build(r, Set.of("exec")));
        Path binary = ConformanceTest.TARGET.resolve("bin").resolve(r.version()).resolve("exec");
        Path dir = ConformanceTest.TARGET.resolve("strace").resolve(r.version());
        Files.createDirectories(dir);
        ConformanceTest.Exec e = ConformanceTest.exec(List.of(ConformanceTest.LAUNCHER.toString(), "run", "--strace", "--",
                binary.toString(), "one-child"), ConformanceTest.goEnv(), null, dir, "goemu", Duration.ofMinutes(2));
        assertEquals(0, e.exit(), e.stderr());
        assertEquals("child: \"9\\n\" <nil>\n", e.stdout());
        String trace = e.stderr();
        Matcher m = EXECVE.matcher(trace);
        assertTrue(m.find(), "no execve line of the child:\n" + tail(trace));
        String child = m.group(1);
        Matcher first = Pattern.compile("(?m)^\\[(\\d+)/").matcher(trace);
        assertTrue(first.find(), tail(trace));
        String parent = first.group(1); // the root guest makes the first call
        assertNotEquals(child, parent);
        for (String pid : List.of(child, parent)) {
            assertTrue(Pattern.compile("(?m)^\\[" + pid + "/\\d+] exit_group\\(0\\) = 0$").matcher(trace).find(),
                    "no exit_group line of " + pid + ":\n" + tail(trace));
            assertTrue(trace.contains("[" + pid + "] +++ exited with 0 +++"), "no end line of " + pid + ":\n" + tail(trace));
        }
        assertTrue(Pattern.compile("(?m)^\\[" + parent + "/\\d+] clone\\(0x[0-9a-f]*[45]111, ").matcher(trace).find(),
                "no vfork clone of the parent:\n" + tail(trace));
    }

    private static String tail(String s) {
        return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
    }
}
