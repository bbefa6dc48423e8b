package dev.goemu.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A change to an ELF file, written as one line so that an interesting input can be kept (in
 * {@code src/test/resources/elf/}) as a description instead of a binary. Changes, separated by {@code ;}:
 * <pre>
 *   ehdr FIELD VALUE          e.g. ehdr e_shnum 0xffff; FIELD as in elf.h, plus EI_CLASS, EI_DATA, EI_VERSION, EI_OSABI
 *   phdr N FIELD VALUE        program header N (as the unchanged file places them), e.g. phdr 4 p_memsz 0x400000000000
 *   shdr N FIELD VALUE        section header N
 *   byte OFFSET VALUE         one byte
 *   truncate LENGTH           cut the file to LENGTH bytes; a negative LENGTH cuts that many from the end
 * </pre>
 * Numbers are decimal or 0x-hex, two's complement if negative; a value wider than its field is cut to the field.
 */
record ElfMutation(String text) {
    /** name: {offset, width} */
    private static final Map<String, int[]> EHDR = Map.ofEntries(
            Map.entry("EI_CLASS", new int[] {4, 1}), Map.entry("EI_DATA", new int[] {5, 1}),
            Map.entry("EI_VERSION", new int[] {6, 1}), Map.entry("EI_OSABI", new int[] {7, 1}),
            Map.entry("EI_ABIVERSION", new int[] {8, 1}), Map.entry("e_type", new int[] {16, 2}),
            Map.entry("e_machine", new int[] {18, 2}), Map.entry("e_version", new int[] {20, 4}),
            Map.entry("e_entry", new int[] {24, 8}), Map.entry("e_phoff", new int[] {32, 8}),
            Map.entry("e_shoff", new int[] {40, 8}), Map.entry("e_flags", new int[] {48, 4}),
            Map.entry("e_ehsize", new int[] {52, 2}), Map.entry("e_phentsize", new int[] {54, 2}),
            Map.entry("e_phnum", new int[] {56, 2}), Map.entry("e_shentsize", new int[] {58, 2}),
            Map.entry("e_shnum", new int[] {60, 2}), Map.entry("e_shstrndx", new int[] {62, 2}));
    private static final Map<String, int[]> PHDR = Map.of(
            "p_type", new int[] {0, 4}, "p_flags", new int[] {4, 4}, "p_offset", new int[] {8, 8},
            "p_vaddr", new int[] {16, 8}, "p_paddr", new int[] {24, 8}, "p_filesz", new int[] {32, 8},
            "p_memsz", new int[] {40, 8}, "p_align", new int[] {48, 8});
    private static final Map<String, int[]> SHDR = Map.of(
            "sh_name", new int[] {0, 4}, "sh_type", new int[] {4, 4}, "sh_flags", new int[] {8, 8},
            "sh_addr", new int[] {16, 8}, "sh_offset", new int[] {24, 8}, "sh_size", new int[] {32, 8},
            "sh_link", new int[] {40, 4}, "sh_info", new int[] {44, 4}, "sh_addralign", new int[] {48, 8},
            "sh_entsize", new int[] {56, 8});
    private static final String[] EHDR_NAMES = EHDR.keySet().stream().sorted().toArray(String[]::new);
    private static final String[] PHDR_NAMES = PHDR.keySet().stream().sorted().toArray(String[]::new);
    private static final String[] SHDR_NAMES = SHDR.keySet().stream().sorted().toArray(String[]::new);

    /** The changed copy of {@code original}; the original is left as it is. */
    byte[] apply(byte[] original) {
        ByteBuffer at = ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN);
        byte[] out = original.clone();
        int length = out.length;
        for (String change : text.split(";")) {
            String[] w = change.trim().split("\\s+");
            switch (w[0]) {
                case "ehdr" -> put(out, field(EHDR, w[1]), 0, number(w[2]));
                case "phdr" -> put(out, field(PHDR, w[2]), at.getLong(32) + 56 * number(w[1]), number(w[3]));
                case "shdr" -> put(out, field(SHDR, w[2]), at.getLong(40) + 64 * number(w[1]), number(w[3]));
                case "byte" -> put(out, new int[] {0, 1}, number(w[1]), number(w[2]));
                case "truncate" -> {
                    long n = number(w[1]);
                    length = (int) Math.max(0, Math.min(length, n < 0 ? length + n : n));
                }
                default -> throw new IllegalArgumentException("unknown change '" + change.trim() + "' in: " + text);
            }
        }
        return length == out.length ? out : Arrays.copyOf(out, length);
    }

    private static int[] field(Map<String, int[]> fields, String name) {
        int[] f = fields.get(name);
        if (f == null) throw new IllegalArgumentException("unknown field " + name);
        return f;
    }

    /** Little-endian, cut to the field's width; a field outside the file is left out (the change means nothing). */
    private static void put(byte[] out, int[] field, long base, long value) {
        long offset = base + field[0];
        for (int i = 0; i < field[1]; i++) {
            if (offset + i >= 0 && offset + i < out.length) out[(int) (offset + i)] = (byte) (value >>> (8 * i));
        }
    }

    private static long number(String s) {
        boolean negative = s.startsWith("-");
        String digits = negative ? s.substring(1) : s;
        long v = digits.startsWith("0x") ? Long.parseUnsignedLong(digits.substring(2), 16) : Long.parseUnsignedLong(digits);
        return negative ? -v : v;
    }

    /**
     * One to three random changes for a file of {@code length} bytes with {@code phnum} program headers and
     * {@code shnum} section headers, biased to values that sit on some boundary.
     */
    static ElfMutation random(Random rnd, int length, int phnum, int shnum) {
        int n = 1 + (rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(2) : 0);
        List<String> changes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            changes.add(switch (rnd.nextInt(10)) {
                case 0, 1 -> "ehdr " + pick(rnd, EHDR_NAMES) + " " + value(rnd, length);
                case 2, 3, 4 -> "phdr " + rnd.nextInt(phnum) + " " + pick(rnd, PHDR_NAMES) + " " + value(rnd, length);
                case 5, 6 -> "shdr " + rnd.nextInt(Math.max(1, shnum)) + " " + pick(rnd, SHDR_NAMES) + " " + value(rnd, length);
                case 7 -> "truncate " + switch (rnd.nextInt(4)) {
                    case 0 -> rnd.nextInt(128);
                    case 1 -> rnd.nextInt(4096);
                    case 2 -> -1 - rnd.nextInt(4096);
                    default -> rnd.nextInt(length);
                };
                default -> "byte " + (rnd.nextBoolean() ? rnd.nextInt(1024) : rnd.nextInt(length)) + " " + hex(rnd.nextInt(256));
            });
        }
        return new ElfMutation(String.join("; ", changes));
    }

    private static String pick(Random rnd, String[] names) {
        return names[rnd.nextInt(names.length)];
    }

    private static String value(Random rnd, int length) {
        long[] edges = {0, 1, 2, 3, 4, 6, 0x38, 0x40, 0x7f, 0xff, 0xfff, 0x1000, 0x1001, 0xffff, 0x10000, 0x400000,
                0x7fffffffL, 0xffffffffL, 1L << 32, 1L << 46, (1L << 47) - 0x1000, 1L << 47, Long.MAX_VALUE, -1, -0x1000,
                length - 1, length, length + 1, 1L << 62};
        long v = switch (rnd.nextInt(3)) {
            case 0 -> edges[rnd.nextInt(edges.length)];
            case 1 -> rnd.nextLong() >>> rnd.nextInt(64);
            default -> rnd.nextInt(length);
        };
        return hex(v);
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    @Override
    public String toString() {
        return text;
    }
}
