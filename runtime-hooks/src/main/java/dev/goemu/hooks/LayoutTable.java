package dev.goemu.hooks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A built-in runtime layout for one Go minor release, for binaries without DWARF: the fields of the scheduler's
 * structs, flattened to dotted paths, and for each runtime global a witness that finds it in the code. Kept as
 * {@code layouts/go1.NN.txt} resources, written only by {@link LayoutTableGenerator}.
 *
 * <p>Format, one entry a line, '#' starts a comment line:
 * <pre>
 * release go1.26.8                                  the exact release it was generated from
 * type runtime.g 456                                a root type and its size
 * field runtime.g sched.sp 56 8 uintptr             type, path, offset, size, the field's type name (to the end)
 * global runtime.sched 6872 runtime.mcount 96 2 4   name, size, witness function, its size, ordinal, addend
 * check runtime.schedule 2432                       a large runtime function and its size
 * </pre>
 *
 * <p>The {@code check} lines fingerprint the runtime: a binary whose runtime is not the one the table was made from
 * (another patch release, GOAMD64 level or GOEXPERIMENT) almost surely has one of them at another size, and gets no
 * built-in layout rather than a wrong one. A witness function's size alone is too weak a check: the small functions
 * that make the best witnesses often keep their size across releases while the field offsets in them change.
 */
final class LayoutTable {
    /** The structs the scheduler views read; everything reachable from them by value is flattened into paths. */
    static final List<String> ROOT_TYPES = List.of("runtime.g", "runtime.m", "runtime.p", "runtime.schedt",
            "runtime.gobuf", "runtime.stack");
    private static final String RESOURCES = "/dev/goemu/hooks/layouts/";
    private static final Pattern MINOR = Pattern.compile("^go1\\.(\\d+)");

    /**
     * Where to find a global in a binary without symbols: the {@code ordinal}-th (from 0) RIP-relative operand of
     * {@code function}, whose code is {@code functionSize} bytes, addresses the global plus {@code addend}.
     */
    record Witness(String global, long globalSize, String function, long functionSize, int ordinal, long addend) {}

    final String release;
    final Map<String, Long> typeSizes;
    /** Type → path → field, in the order the generator wrote them. */
    final Map<String, Map<String, RuntimeLayout.Field>> fields;
    final Map<String, Witness> witnesses;
    /** Function → size: the fingerprint of the runtime the table describes. */
    final Map<String, Long> checks;

    LayoutTable(String release, Map<String, Long> typeSizes, Map<String, Map<String, RuntimeLayout.Field>> fields,
                Map<String, Witness> witnesses, Map<String, Long> checks) {
        this.release = release;
        this.typeSizes = typeSizes;
        this.fields = fields;
        this.witnesses = witnesses;
        this.checks = checks;
    }

    /** Why {@code syms} is not the runtime this table describes, or empty if its fingerprint matches. */
    Optional<String> mismatch(GoSymbols syms) {
        for (var check : checks.entrySet()) {
            Optional<GoFunc> f = syms.lookup(check.getKey());
            if (f.isEmpty()) return Optional.of(check.getKey() + " is missing");
            long size = f.get().end() - f.get().entry();
            if (size != check.getValue()) {
                return Optional.of(check.getKey() + " is " + size + " bytes, not " + check.getValue());
            }
        }
        return Optional.empty();
    }

    /** The built-in table for a minor release ("go1.26"), if goemu has one. */
    static Optional<LayoutTable> builtIn(String minorRelease) {
        return builtInText(minorRelease).map(text -> parse(text, minorRelease + ".txt"));
    }

    /** The text of the built-in table for a minor release, as committed. */
    static Optional<String> builtInText(String minorRelease) {
        try (InputStream in = LayoutTable.class.getResourceAsStream(RESOURCES + minorRelease + ".txt")) {
            return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "go1.26" for "go1.26.8", "go1.27rc1" or "go1.26.8 X:nocoverageredesign"; empty for "devel ..." and the like. */
    static Optional<String> minorRelease(String goVersion) {
        Matcher m = MINOR.matcher(goVersion);
        return m.find() ? Optional.of("go1." + m.group(1)) : Optional.empty();
    }

    static LayoutTable parse(String text, String origin) {
        String release = null;
        Map<String, Long> sizes = new LinkedHashMap<>();
        Map<String, Map<String, RuntimeLayout.Field>> fields = new LinkedHashMap<>();
        Map<String, Witness> witnesses = new LinkedHashMap<>();
        Map<String, Long> checks = new LinkedHashMap<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            // A field's type name comes last, and may hold spaces ("struct { runtime.user bool; ... }").
            String[] f = line.startsWith("field ") ? line.split(" ", 6) : line.split(" ");
            try {
                switch (f[0]) {
                    case "release" -> release = f[1];
                    case "type" -> sizes.put(f[1], Long.parseLong(f[2]));
                    case "field" -> fields.computeIfAbsent(f[1], k -> new LinkedHashMap<>())
                            .put(f[2], new RuntimeLayout.Field(Long.parseLong(f[3]), Integer.parseInt(f[4]), f[5]));
                    case "global" -> witnesses.put(f[1], new Witness(f[1], Long.parseLong(f[2]), f[3],
                            Long.parseLong(f[4]), Integer.parseInt(f[5]), Long.parseLong(f[6])));
                    case "check" -> checks.put(f[1], Long.parseLong(f[2]));
                    default -> throw new IllegalArgumentException("unknown entry " + f[0]);
                }
            } catch (RuntimeException e) {
                throw new IllegalStateException(origin + " line " + (i + 1) + ": bad entry: " + line, e);
            }
        }
        if (release == null) throw new IllegalStateException(origin + ": no release line");
        return new LayoutTable(release, sizes, fields, witnesses, checks);
    }

    /** The table as text, after {@code header} (comment lines, each starting with '#'). */
    String format(String header) {
        StringBuilder out = new StringBuilder(header);
        out.append("release ").append(release).append('\n');
        typeSizes.forEach((type, size) -> out.append("type ").append(type).append(' ').append(size).append('\n'));
        fields.forEach((type, byPath) -> byPath.forEach((path, f) -> out.append("field ").append(type).append(' ')
                .append(path).append(' ').append(f.offset()).append(' ').append(f.size()).append(' ')
                .append(f.typeName()).append('\n')));
        for (Witness w : witnesses.values()) {
            out.append("global ").append(w.global()).append(' ').append(w.globalSize()).append(' ').append(w.function())
                    .append(' ').append(w.functionSize()).append(' ').append(w.ordinal()).append(' ').append(w.addend())
                    .append('\n');
        }
        checks.forEach((function, size) -> out.append("check ").append(function).append(' ').append(size).append('\n'));
        return out.toString();
    }
}
