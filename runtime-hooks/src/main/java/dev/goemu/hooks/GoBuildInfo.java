package dev.goemu.hooks;

import dev.goemu.loader.ElfFile;
import dev.goemu.loader.ProgramHeader;
import dev.goemu.loader.Section;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What {@code go version -m} shows, read from the {@code .go.buildinfo} section (see debug/buildinfo): a 32-byte
 * header — the 14-byte magic {@code "\xff Go buildinf:"}, the pointer size, a flags byte — then, from Go 1.18
 * (flags bit 0x2), the version and module strings inline, each prefixed by its varint length; before 1.18, two
 * pointers to Go string headers ({@code {ptr, len}}) elsewhere in the image. The module string is framed by two
 * 16-byte sentinels and holds tab-separated lines: {@code path}, {@code mod}, {@code dep}, {@code =>} and
 * {@code build}.
 *
 * @param goVersion  "go1.21.13"
 * @param path       the main package's import path ("command-line-arguments" for a file build), or ""
 * @param mainModule the main module's path ("example.com/hello"), or "" if built outside a module
 * @param modVersion the main module's version ("(devel)" for a local build), or ""
 * @param settings   the {@code build} lines without their prefix: "-ldflags=-s -w", "CGO_ENABLED=0", "GOARCH=amd64"
 * @param modinfo    the module string without its sentinels ("" if none)
 */
public record GoBuildInfo(String goVersion, String path, String mainModule, String modVersion, List<String> settings,
                          List<String> deps, String modinfo) {
    private static final byte[] MAGIC = "\u00ff Go buildinf:".getBytes(StandardCharsets.ISO_8859_1);
    private static final int HEADER_SIZE = 32, FLAG_BIG_ENDIAN = 0x1, FLAG_INLINE = 0x2;

    /**
     * The build info of {@code elf}; empty if it has no {@code .go.buildinfo} section.
     *
     * @throws GoFormatException if the section does not hold build info in a known format
     */
    public static Optional<GoBuildInfo> read(ElfFile elf) {
        Optional<Section> found = elf.section(".go.buildinfo");
        if (found.isEmpty() || found.get().type() == Section.SHT_NOBITS) return Optional.empty();
        Section s = found.get();
        if (s.size() < HEADER_SIZE) throw new GoFormatException(".go.buildinfo is too short (" + s.size() + " bytes)");
        byte[] header = elf.bytes(s.offset(), HEADER_SIZE);
        if (!Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new GoFormatException(".go.buildinfo does not start with \"\\xff Go buildinf:\"");
        }
        int ptrSize = header[14] & 0xff, flags = header[15] & 0xff;
        String version, mod;
        if ((flags & FLAG_INLINE) != 0) {
            byte[] body = elf.bytes(s.offset(), (int) Math.min(s.size(), Integer.MAX_VALUE));
            int[] at = {HEADER_SIZE};
            version = inlineString(body, at);
            mod = inlineString(body, at);
        } else {
            if ((flags & FLAG_BIG_ENDIAN) != 0) throw new GoFormatException(".go.buildinfo is big-endian");
            if (ptrSize != 8 && ptrSize != 4) throw new GoFormatException(".go.buildinfo pointer size " + ptrSize);
            ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            long versPtr = ptrSize == 8 ? h.getLong(16) : Integer.toUnsignedLong(h.getInt(16));
            long modPtr = ptrSize == 8 ? h.getLong(16 + ptrSize) : Integer.toUnsignedLong(h.getInt(16 + ptrSize));
            version = goString(elf, ptrSize, versPtr);
            mod = goString(elf, ptrSize, modPtr);
        }
        if (version.isEmpty()) throw new GoFormatException(".go.buildinfo has no Go version");
        // Strip the sentinels (cmd/go's modload.infoStart and infoEnd), as debug/buildinfo does.
        mod = mod.length() >= 33 && mod.charAt(mod.length() - 17) == '\n' ? mod.substring(16, mod.length() - 16) : "";
        return Optional.of(parse(version, mod));
    }

    /** Builds the record from a version string and a sentinel-free module string. */
    public static GoBuildInfo parse(String goVersion, String modinfo) {
        String path = "", mainModule = "", modVersion = "";
        List<String> settings = new ArrayList<>(), deps = new ArrayList<>();
        for (String line : modinfo.split("\n")) {
            String[] f = line.split("\t");
            switch (f[0]) {
                case "path" -> path = f.length > 1 ? f[1] : "";
                case "mod" -> {
                    mainModule = f.length > 1 ? f[1] : "";
                    modVersion = f.length > 2 ? f[2] : "";
                }
                case "dep" -> deps.add(line.substring(4));
                case "build" -> settings.add(line.substring(6));
                default -> { }
            }
        }
        return new GoBuildInfo(goVersion, path, mainModule, modVersion, List.copyOf(settings), List.copyOf(deps), modinfo);
    }

    /** The value of build setting {@code key} ("GOARCH", "-ldflags", "vcs.revision"), if recorded. */
    public Optional<String> setting(String key) {
        String prefix = key + "=";
        return settings.stream().filter(s -> s.startsWith(prefix)).map(s -> s.substring(prefix.length())).findFirst();
    }

    private static String inlineString(byte[] data, int[] at) {
        long length = 0;
        for (int shift = 0; ; shift += 7) {
            if (at[0] >= data.length || shift > 35) throw new GoFormatException(".go.buildinfo: truncated string length");
            int b = data[at[0]++] & 0xff;
            length |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (length > data.length - at[0]) throw new GoFormatException(".go.buildinfo: string runs past the section");
        String s = new String(data, at[0], (int) length, StandardCharsets.UTF_8);
        at[0] += (int) length;
        return s;
    }

    /** A Go string header {@code {ptr, len}} at virtual address {@code addr}, followed to its bytes. */
    private static String goString(ElfFile elf, int ptrSize, long addr) {
        byte[] hdr = read(elf, addr, 2 * ptrSize);
        if (hdr == null) return "";
        ByteBuffer b = ByteBuffer.wrap(hdr).order(ByteOrder.LITTLE_ENDIAN);
        long ptr = ptrSize == 8 ? b.getLong(0) : Integer.toUnsignedLong(b.getInt(0));
        long len = ptrSize == 8 ? b.getLong(8) : Integer.toUnsignedLong(b.getInt(4));
        if (len < 0 || len > 1 << 24) return "";
        byte[] bytes = read(elf, ptr, (int) len);
        return bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
    }

    /** {@code length} bytes at virtual address {@code addr}, from the file part of a PT_LOAD; null if not there. */
    private static byte[] read(ElfFile elf, long addr, int length) {
        for (ProgramHeader ph : elf.programHeaders()) {
            if (ph.type() != ProgramHeader.PT_LOAD) continue;
            long rel = addr - ph.vaddr();
            if (rel >= 0 && rel + length <= ph.filesz()) return elf.bytes(ph.offset() + rel, length);
        }
        return null;
    }
}
