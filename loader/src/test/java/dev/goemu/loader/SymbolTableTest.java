package dev.goemu.loader;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SymbolTableTest {
    private static final Symbol TEXT = new Symbol("runtime.text", 0x1000, 0, Symbol.STT_FUNC);
    private static final Symbol F = new Symbol("f", 0x1000, 0x20, Symbol.STT_FUNC);
    private static final Symbol ASM = new Symbol("asm", 0x1040, 0, Symbol.STT_FUNC);
    private static final Symbol G = new Symbol("g", 0x1080, 0x10, Symbol.STT_FUNC);
    private static final Symbol MARKER = new Symbol("runtime.edata", 0x2000, 0, Symbol.STT_OBJECT);
    private static final Symbol V = new Symbol("v", 0x2000, 8, Symbol.STT_OBJECT);
    private static final Symbol F_AGAIN = new Symbol("f", 0x3000, 4, Symbol.STT_FUNC);
    private static final SymbolTable TABLE = SymbolTable.of(List.of(TEXT, F, ASM, G, MARKER, V, F_AGAIN));

    @Test
    void containing() {
        assertEquals(Optional.empty(), TABLE.containing(0xfff));
        assertEquals(Optional.of(F), TABLE.containing(0x1000), "the sized symbol wins at a shared address");
        assertEquals(Optional.of(F), TABLE.containing(0x101f));
        assertEquals(Optional.empty(), TABLE.containing(0x1020), "gap after a sized function");
        assertEquals(Optional.of(ASM), TABLE.containing(0x1040));
        assertEquals(Optional.of(ASM), TABLE.containing(0x107f), "a sizeless function runs to the next symbol");
        assertEquals(Optional.of(G), TABLE.containing(0x108f));
        assertEquals(Optional.empty(), TABLE.containing(0x1090));
        assertEquals(Optional.of(V), TABLE.containing(0x2007));
        assertEquals(Optional.empty(), TABLE.containing(0x2008));
    }

    @Test
    void lookupKeepsTheFirstOfRepeatedNames() {
        assertEquals(Optional.of(F), TABLE.lookup("f"));
        assertEquals(Optional.of(MARKER), TABLE.lookup("runtime.edata"), "markers are found by name");
        assertEquals(7, TABLE.all().size());
        assertTrue(SymbolTable.of(List.of()).isEmpty());
        assertEquals(Optional.empty(), SymbolTable.of(List.of()).containing(0x1000));
    }
}
