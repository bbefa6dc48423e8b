package dev.goemu.unicorn;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** An engine with code at {@link #CODE} (rwx, 64 KiB) and data at {@link #DATA} (rw, 64 KiB), stack in the data. */
abstract class EngineTestBase {
    static final long CODE = 0x10000;
    static final long DATA = 0x30000;
    static final long SIZE = 0x10000;

    Unicorn uc;

    @BeforeEach
    void open() {
        uc = Unicorn.openX86_64();
        uc.map(CODE, SIZE, Perm.ALL);
        uc.map(DATA, SIZE, Perm.READ | Perm.WRITE);
        uc.setReg(X86.RSP, DATA + SIZE - 0x100);
    }

    @AfterEach
    void close() {
        uc.close();
    }

    /** Writes {@code code} at CODE and runs it to its end; returns the end address. */
    long run(byte[] code) {
        uc.write(CODE, code);
        uc.start(CODE, CODE + code.length);
        return CODE + code.length;
    }
}
