package dev.goemu.hooks.dwarf;

import dev.goemu.hooks.GoFormatException;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.Section;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The DWARF sections of an ELF file, decompressed. Go's linker compresses them with zlib in one of two ways: older
 * releases write {@code .zdebug_*} sections holding "ZLIB", the 8-byte big-endian uncompressed size, then the stream
 * (the old GNU convention; {@code objcopy --compress-debug-sections=zlib-gnu} makes them too); newer ones, Go 1.19
 * already, write {@code .debug_*} sections flagged SHF_COMPRESSED that start with an Elf64_Chdr (type, reserved,
 * uncompressed size, alignment). Uncompressed sections ({@code -ldflags=-compressdwarf=false}) are
 * taken as they are.
 */
final class DebugSections {
    private static final int ELFCOMPRESS_ZLIB = 1, ELFCOMPRESS_ZSTD = 2, CHDR_SIZE = 24, ZDEBUG_HEADER = 12;
    /** Far above any Go binary's DWARF; stops a corrupt size field from allocating gigabytes. */
    private static final long MAX_SIZE = 1L << 30;

    /** How the sections were stored, for diagnostics: "SHF_COMPRESSED zlib", ".zdebug zlib" or "uncompressed". */
    enum Compression {
        SHF_COMPRESSED("SHF_COMPRESSED zlib"), ZDEBUG(".zdebug zlib"), NONE("uncompressed");

        final String description;

        Compression(String description) {
            this.description = description;
        }
    }

    private final ElfFile elf;

    DebugSections(ElfFile elf) {
        this.elf = elf;
    }

    /** How {@code .debug_info} is stored; empty if the file has no DWARF. */
    Optional<Compression> compression() {
        Optional<Section> plain = present(".debug_info");
        if (plain.isPresent()) {
            return Optional.of((plain.get().flags() & Section.SHF_COMPRESSED) != 0 ? Compression.SHF_COMPRESSED : Compression.NONE);
        }
        return present(".zdebug_info").map(s -> Compression.ZDEBUG);
    }

    /** The contents of {@code .debug_<name>} ({@code name} is "info", "abbrev", ...), decompressed; empty if absent. */
    Optional<byte[]> read(String name) {
        Optional<Section> plain = present(".debug_" + name);
        if (plain.isPresent()) {
            Section s = plain.get();
            byte[] raw = contents(s);
            return Optional.of((s.flags() & Section.SHF_COMPRESSED) != 0 ? fromChdr(s.name(), raw) : raw);
        }
        return present(".zdebug_" + name).map(s -> fromZdebug(s.name(), contents(s)));
    }

    private Optional<Section> present(String name) {
        return elf.section(name).filter(s -> s.type() != Section.SHT_NOBITS);
    }

    private byte[] contents(Section s) {
        if (s.size() > MAX_SIZE) throw new GoFormatException(s.name() + " is implausibly large (" + s.size() + " bytes)");
        return elf.bytes(s.offset(), (int) s.size());
    }

    private static byte[] fromChdr(String section, byte[] raw) {
        if (raw.length < CHDR_SIZE) throw new GoFormatException(section + ": too short for its compression header");
        ByteBuffer h = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int type = h.getInt(0);
        if (type == ELFCOMPRESS_ZSTD) throw new GoFormatException(section + " is zstd-compressed; only zlib is supported");
        if (type != ELFCOMPRESS_ZLIB) throw new GoFormatException(section + ": unknown compression type " + type);
        return inflate(section, raw, CHDR_SIZE, h.getLong(8));
    }

    private static byte[] fromZdebug(String section, byte[] raw) {
        if (raw.length < ZDEBUG_HEADER || raw[0] != 'Z' || raw[1] != 'L' || raw[2] != 'I' || raw[3] != 'B') {
            throw new GoFormatException(section + " does not start with \"ZLIB\"");
        }
        return inflate(section, raw, ZDEBUG_HEADER, ByteBuffer.wrap(raw).order(ByteOrder.BIG_ENDIAN).getLong(4));
    }

    private static byte[] inflate(String section, byte[] raw, int from, long size) {
        if (size < 0 || size > MAX_SIZE) throw new GoFormatException(section + ": implausible uncompressed size " + size);
        byte[] out = new byte[(int) size];
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(raw, from, raw.length - from);
            int n = 0;
            while (n < out.length && !inflater.finished()) {
                int got = inflater.inflate(out, n, out.length - n);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
                n += got;
            }
            if (n != out.length) {
                throw new GoFormatException(section + ": decompressed to " + n + " bytes, its header says " + size);
            }
            return out;
        } catch (DataFormatException e) {
            throw new GoFormatException(section + ": corrupt zlib stream: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }
}
