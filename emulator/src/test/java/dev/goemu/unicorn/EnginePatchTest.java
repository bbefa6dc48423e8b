package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static dev.goemu.unicorn.Asm.imm32;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What goemu's engine patch (emulator/src/main/unicorn/) could break. Stores to writable, non-executable RAM skip the
 * slow path where Unicorn checks permissions and invalidates translated code, so: code must still see its own
 * writes, a page made executable or read-only later must be checked again, and a faulting store must stop at its
 * own instruction (the exit check after every access, which used to catch it, is gone).
 */
class EnginePatchTest extends EngineTestBase {
    static final long PTR = 0x200000;
    static final long PAGE = 0x1000;

    Arena arena;
    MemorySegment host;

    @BeforeEach
    void mapHost() {
        arena = Arena.ofConfined();
        host = arena.allocate(PAGE, PAGE);
        uc.mapPtr(PTR, PAGE, Perm.READ | Perm.WRITE, host);
    }

    @AfterEach
    void freeHost() {
        uc.close();
        arena.close();
    }

    /** mov dword [addr], imm32 */
    static String storeImm32(long addr, int imm) {
        return "c7 04 25 " + imm32((int) addr) + " " + imm32(imm);
    }

    @Test
    void patchLevelIsChecked() {
        Unicorn.openX86_64().close(); // a library without goemu_engine_patch_level would have been refused
    }

    @Test
    void codeSeesItsOwnWritesInALaterBlock() {
        long target = CODE + 0x100;
        uc.write(target, asm("b8 01 00 00 00")); // mov eax, 1
        uc.start(target, target + 5);
        assertEquals(1, uc.reg(X86.RAX));
        uc.write(CODE, asm(storeImm32(target + 1, 7), "e9 " + imm32((int) (target - (CODE + 16))))); // ...; jmp target
        uc.start(CODE, target + 5);
        assertEquals(7, uc.reg(X86.RAX), "the translated mov eax, 1 was invalidated by the guest's store");
    }

    @Test
    void codeSeesItsOwnWritesInTheSameBlock() {
        uc.write(CODE, asm(storeImm32(CODE + 12, 9), "b8 01 00 00 00")); // mov dword [CODE+12], 9; mov eax, 1
        uc.start(CODE, CODE + 16);
        assertEquals(9, uc.reg(X86.RAX));
    }

    /** unicorn-engine/unicorn issue 2367: a page written through a fast TLB entry, then made executable, then rewritten. */
    @Test
    void codeWrittenBeforeThePageBecameExecutable() {
        uc.write(CODE, asm(storeImm32(PTR, 0x000001b8))); // mov dword [PTR], "mov eax, 1" (b8 01 00 00, 00 follows)
        uc.start(CODE, CODE + 11);
        uc.protect(PTR, PAGE, Perm.ALL);
        uc.start(PTR, PTR + 5);
        assertEquals(1, uc.reg(X86.RAX));
        uc.write(CODE, asm(storeImm32(PTR + 1, 5)));
        uc.start(CODE, CODE + 11);
        uc.start(PTR, PTR + 5);
        assertEquals(5, uc.reg(X86.RAX), "the store through the old TLB entry invalidated the translated code");
    }

    @Test
    void writesFaultOnceThePageIsReadOnly() {
        for (long page : new long[] {PTR, DATA}) { // a uc_mem_map_ptr region, a Unicorn-owned one
            uc.write(CODE, asm(storeImm32(page + 8, 1)));
            uc.start(CODE, CODE + 11); // leaves a TLB entry that allows fast stores
            uc.protect(page, PAGE, Perm.READ);
            uc.write(CODE, asm(storeImm32(page + 8, 2)));
            UnicornException e = assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 11));
            assertEquals(UnicornException.WRITE_PROT, e.code());
            assertEquals(1, uc.read(page + 8, 1)[0], "the faulting store wrote nothing");
            uc.protect(page, PAGE, Perm.READ | Perm.WRITE);
        }
        assertEquals(1, host.get(JAVA_LONG, 8));
    }

    @Test
    void aFaultingStoreStopsAtItsInstruction() {
        uc.protect(PTR, PAGE, Perm.READ);
        for (long bad : new long[] {0x500000, PTR}) { // unmapped, read-only
            uc.write(CODE, asm(
                    "b9 01 00 00 00",           // 0x10000: mov ecx, 1
                    "48 89 1c 25 " + imm32((int) bad), // 0x10005: mov [bad], rbx
                    "b9 02 00 00 00"));         // 0x1000d: mov ecx, 2
            assertThrows(UnicornException.class, () -> uc.start(CODE, CODE + 0x12));
            assertEquals(CODE + 5, uc.reg(X86.RIP));
            assertEquals(1, uc.reg(X86.RCX), "nothing after the faulting store ran");
        }
    }

    /**
     * Two mappings of one shared file are two guest ranges on the same host pages (uc_mem_map_ptr twice): a store
     * through one, with a fast TLB entry for the other already made, is seen through the other; unmapping one
     * leaves the other working (the engine never frees memory it was given).
     */
    @Test
    void twoMappingsOfTheSameHostPagesSeeEachOthersStores() {
        long alias = 0x300000;
        uc.mapPtr(alias, PAGE, Perm.READ | Perm.WRITE, host);
        uc.write(CODE, asm(
                "48 8b 04 25 " + imm32((int) alias + 16), // mov rax, [alias+16]
                storeImm32(PTR + 16, 7),
                "48 8b 1c 25 " + imm32((int) alias + 16))); // mov rbx, [alias+16]
        uc.start(CODE, CODE + 27);
        assertEquals(0, uc.reg(X86.RAX));
        assertEquals(7, uc.reg(X86.RBX));
        uc.unmap(PTR, PAGE);
        uc.write(CODE, asm(storeImm32(alias + 24, 9)));
        uc.start(CODE, CODE + 11);
        assertEquals(9, host.get(JAVA_LONG, 24));
    }
}
