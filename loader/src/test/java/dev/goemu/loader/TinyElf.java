package dev.goemu.loader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A hand-made ELF image for tests: by default a valid static x86-64 executable of 0x2000 bytes with one R E
 * PT_LOAD at 0x400000 (file offset 0, 0x2000 bytes, 0x3000 in memory) and no sections. Setters break it on purpose.
 */
final class TinyElf {
    static final int SIZE = 0x2000;
    static final long BASE = 0x400000;

    private final ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private int length = SIZE;
    private int phnum;

    TinyElf() {
        b.put(0, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        u16(16, ElfFile.ET_EXEC);
        u16(18, ElfFile.EM_X86_64);
        u32(20, 1);
        u64(24, BASE + 0x1000); // entry
        u64(32, 64); // phoff
        u16(52, 64); // ehsize
        u16(54, 56); // phentsize
        u16(58, 64); // shentsize
        load(0, ProgramHeader.PF_R | ProgramHeader.PF_X, 0, BASE, SIZE, 0x3000);
    }

    /** Sets program header {@code i} (and phnum, if it grows). */
    TinyElf phdr(int i, int type, int flags, long offset, long vaddr, long filesz, long memsz, long align) {
        int at = 64 + 56 * i;
        u32(at, type);
        u32(at + 4, flags);
        u64(at + 8, offset);
        u64(at + 16, vaddr);
        u64(at + 24, vaddr);
        u64(at + 32, filesz);
        u64(at + 40, memsz);
        u64(at + 48, align);
        phnum = Math.max(phnum, i + 1);
        return u16(56, phnum);
    }

    TinyElf load(int i, int flags, long offset, long vaddr, long filesz, long memsz) {
        return phdr(i, ProgramHeader.PT_LOAD, flags, offset, vaddr, filesz, memsz, 0x1000);
    }

    TinyElf u8(int at, int value) {
        b.put(at, (byte) value);
        return this;
    }

    TinyElf u16(int at, int value) {
        b.putShort(at, (short) value);
        return this;
    }

    TinyElf u32(int at, int value) {
        b.putInt(at, value);
        return this;
    }

    TinyElf u64(int at, long value) {
        b.putLong(at, value);
        return this;
    }

    /** Writes {@code value} NUL-terminated at {@code at}. */
    TinyElf string(int at, String value) {
        b.put(at, (value + "\0").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** Cuts the file to {@code length} bytes. */
    TinyElf truncate(int length) {
        this.length = length;
        return this;
    }

    Path write(Path dir) throws IOException {
        Path p = Files.createTempFile(dir, "tiny", ".elf");
        Files.write(p, Arrays.copyOf(b.array(), length));
        return p;
    }
}
