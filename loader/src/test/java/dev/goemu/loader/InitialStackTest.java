package dev.goemu.loader;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitialStackTest {
    private static final long TOP = 0x7ffffffff000L;
    private static final byte[] RANDOM = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

    /** The stack as the guest would read it, through the addresses it holds. */
    private record Decoded(List<String> argv, List<String> envp, Map<Long, Long> auxv) {}

    private static final class Reader {
        final InitialStack stack;
        final ByteBuffer b;

        Reader(InitialStack stack) {
            this.stack = stack;
            this.b = ByteBuffer.wrap(stack.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        }

        long word(long address) {
            return b.getLong(Math.toIntExact(address - stack.base()));
        }

        byte[] bytes(long address, int n) {
            int at = Math.toIntExact(address - stack.base());
            return Arrays.copyOfRange(stack.bytes(), at, at + n);
        }

        /** Reads a NUL-terminated string, failing if the NUL is missing before the top. */
        String string(long address) {
            int at = Math.toIntExact(address - stack.base()), end = at;
            while (stack.bytes()[end] != 0) end++;
            return new String(stack.bytes(), at, end - at, StandardCharsets.UTF_8);
        }

        Decoded decode() {
            long p = stack.sp();
            long argc = word(p);
            List<String> argv = new ArrayList<>(), envp = new ArrayList<>();
            for (int i = 0; i < argc; i++) argv.add(string(word(p += 8)));
            assertEquals(0, word(p += 8), "argv ends with NULL");
            for (long e; (e = word(p += 8)) != 0; ) envp.add(string(e));
            Map<Long, Long> auxv = new LinkedHashMap<>();
            for (long type; (type = word(p += 8)) != Auxv.AT_NULL; ) auxv.put(type, word(p += 8));
            return new Decoded(argv, envp, auxv);
        }
    }

    private static InitialStack build(List<String> argv, List<String> envp, String execfn) {
        Auxv auxv = new Auxv().put(Auxv.AT_PAGESZ, 4096).put(Auxv.AT_ENTRY, 0x401000);
        return InitialStack.build(TOP, argv, envp, execfn, auxv, RANDOM);
    }

    @Test
    void argvEnvpAndAuxvReadBack() {
        InitialStack stack = build(List.of("/bin/hello", "-v", "wörld"), List.of("HOME=/root", "LANG=C"), "/bin/hello");
        Reader r = new Reader(stack);
        Decoded d = r.decode();
        assertEquals(List.of("/bin/hello", "-v", "wörld"), d.argv());
        assertEquals(List.of("HOME=/root", "LANG=C"), d.envp());
        assertEquals(List.of(Auxv.AT_PAGESZ, Auxv.AT_ENTRY, Auxv.AT_RANDOM, Auxv.AT_EXECFN, Auxv.AT_PLATFORM),
                List.copyOf(d.auxv().keySet()), "caller's entries first, in order");
        assertEquals(4096, d.auxv().get(Auxv.AT_PAGESZ));
        assertEquals(0x401000, d.auxv().get(Auxv.AT_ENTRY));
        assertArrayEquals(RANDOM, r.bytes(d.auxv().get(Auxv.AT_RANDOM), 16));
        assertEquals("x86_64", r.string(d.auxv().get(Auxv.AT_PLATFORM)));
        long execfn = d.auxv().get(Auxv.AT_EXECFN);
        assertEquals("/bin/hello", r.string(execfn));
        assertEquals(TOP - 8 - "/bin/hello".length() - 1, execfn, "execfn is the highest string");
        assertEquals(0, r.word(TOP - 8), "the top word stays zero");
        assertEquals(TOP - stack.sp(), stack.bytes().length);
        assertEquals(stack.sp(), stack.base());
    }

    @Test
    void stringsAreContiguousAndNulTerminatedInKernelOrder() {
        InitialStack stack = build(List.of("a", "bb"), List.of("C=3"), "/x");
        Reader r = new Reader(stack);
        long argv0 = r.word(stack.sp() + 8);
        // argv strings, then envp strings, then execfn, then the reserved top word.
        assertArrayEquals("a\0bb\0C=3\0/x\0\0\0\0\0\0\0\0\0".getBytes(StandardCharsets.UTF_8),
                r.bytes(argv0, Math.toIntExact(TOP - argv0)));
    }

    @Test
    void layoutMatchesLinuxForAKnownCase() {
        // Worked through create_elf_tables(): strings end at TOP-8; "/bin/x" (7), "A=1" (4), "/bin/x" (7) put
        // argv[0] at ...efe6; aligned down to ...efe0; platform at ...efd9; random at ...efc9. Then
        // 2 auxv pairs + 3 added + AT_NULL = 12 words, argc + 2 + 2 = 5 words: (...efc9 - 17*8) & ~15 = ...ef40.
        InitialStack stack = build(List.of("/bin/x"), List.of("A=1"), "/bin/x");
        assertEquals(0x7fffffffef40L, stack.sp());
        Map<Long, Long> aux = new Reader(stack).decode().auxv();
        assertEquals(0x7fffffffefc9L, aux.get(Auxv.AT_RANDOM));
        assertEquals(0x7fffffffefd9L, aux.get(Auxv.AT_PLATFORM));
        assertEquals(0x7fffffffeff1L, aux.get(Auxv.AT_EXECFN));
    }

    @Test
    void spIsAlignedForEveryCountOfArgumentsAndVariables() {
        for (int argc = 0; argc <= 5; argc++) {
            for (int envc = 0; envc <= 5; envc++) {
                for (int len = 0; len < 17; len += 5) {
                    List<String> argv = Collections.nCopies(argc, "a".repeat(len));
                    List<String> envp = Collections.nCopies(envc, "E=" + "v".repeat(len));
                    InitialStack stack = build(argv, envp, "/prog");
                    String what = "argc=" + argc + " envc=" + envc + " len=" + len;
                    assertEquals(0, stack.sp() % 16, what);
                    Decoded d = new Reader(stack).decode();
                    assertEquals(argv, d.argv(), what);
                    assertEquals(envp, d.envp(), what);
                }
            }
        }
    }

    @Test
    void callerAuxvIsLeftAloneAndItsStackEntriesReplaced() {
        Auxv auxv = new Auxv().put(Auxv.AT_RANDOM, 1).put(Auxv.AT_UID, 1000);
        InitialStack stack = InitialStack.build(TOP, List.of("p"), List.of(), "p", auxv, RANDOM);
        Map<Long, Long> aux = new Reader(stack).decode().auxv();
        assertEquals(List.of(Auxv.AT_RANDOM, Auxv.AT_UID, Auxv.AT_EXECFN, Auxv.AT_PLATFORM), List.copyOf(aux.keySet()));
        assertTrue(aux.get(Auxv.AT_RANDOM) > stack.sp());
        assertEquals(1, auxv.get(Auxv.AT_RANDOM).orElseThrow());
        assertEquals(2, auxv.entries().size());
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> build(List.of("a\0b"), List.of(), "a"));
        assertThrows(IllegalArgumentException.class,
                () -> InitialStack.build(TOP, List.of(), List.of(), "a", new Auxv(), new byte[8]));
    }
}
