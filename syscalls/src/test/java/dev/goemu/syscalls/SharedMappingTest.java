package dev.goemu.syscalls;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.goemu.syscalls.AddressSpace.PAGE;
import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static org.junit.jupiter.api.Assertions.*;

/**
 * MAP_SHARED file and anonymous mappings through the mmap family of syscalls, and the region bookkeeping behind
 * them: splits, partial unmaps, MAP_FIXED over them, pages past the end of the file.
 */
class SharedMappingTest {
    private static final int MMAP = 9, MPROTECT = 10, MUNMAP = 11, MSYNC = 26, MINCORE = 27, MADVISE = 28, OPENAT = 257;
    private static final int PROT_READ = 1, PROT_RW = 3, MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10,
            MAP_ANONYMOUS = 0x20, O_RDONLY = 0, O_RDWR = 2, MADV_DONTNEED = 4, MS_SYNC = 4;
    private static final long AT = 0x40000000L;

    private final TestKernel tk = new TestKernel();
    private final AddressSpace mem = tk.memory;
    private final Task task = tk.kernel.createMainTask();
    private final Path file;

    SharedMappingTest() throws IOException {
        file = Files.createTempFile("goemu-shm", ".data");
    }

    @AfterEach
    void removeFile() throws IOException {
        Files.deleteIfExists(file);
    }

    private int open(int flags) {
        mem.write(SCRATCH, (file + "\0").getBytes(StandardCharsets.UTF_8));
        long fd = tk.call(task, OPENAT, -100, SCRATCH, flags);
        assertTrue(fd >= 0, "openat: " + fd);
        return (int) fd;
    }

    private long mmap(long addr, long len, int prot, int flags, int fd, long offset) {
        return tk.call(task, MMAP, addr, len, prot, flags, fd, offset);
    }

    /** The file's first bytes of each of its pages, as a string per page with NULs trimmed. */
    private String pageStarts() throws IOException {
        byte[] all = Files.readAllBytes(file);
        StringBuilder sb = new StringBuilder();
        for (int off = 0; off < all.length; off += (int) PAGE) {
            byte[] head = Arrays.copyOfRange(all, off, Math.min(all.length, off + 8));
            sb.append('[').append(new String(head, StandardCharsets.UTF_8).replace("\0", "")).append(']');
        }
        return sb.toString();
    }

    @Test
    void writesReachTheFileAndEveryMappingOfIt() throws IOException {
        Files.write(file, new byte[(int) (3 * PAGE)]);
        int fd = open(O_RDWR);
        assertEquals(AT, mmap(AT, 3 * PAGE, PROT_RW, MAP_SHARED | MAP_FIXED, fd, 0));
        long other = mmap(0, 2 * PAGE, PROT_RW, MAP_SHARED, fd, PAGE);
        assertTrue(other > 0);
        assertEquals(AddressSpace.Kind.SHARED_FILE, mem.kindAt(AT));
        mem.write(AT, "zero".getBytes());
        mem.write(AT + PAGE, "one".getBytes());
        assertEquals("one", new String(mem.read(other, 3)), "the other mapping of page 1");
        mem.write(other + PAGE, "two".getBytes());
        assertEquals(0, tk.call(task, MSYNC, AT, 3 * PAGE, MS_SYNC));
        assertEquals("[zero][one][two]", pageStarts());
        assertEquals(0, tk.call(task, MINCORE, AT, 3 * PAGE, SCRATCH + 512));
        assertArrayEquals(new byte[] {1, 1, 1}, mem.read(SCRATCH + 512, 3));

        // MADV_DONTNEED drops the pages; they come back from the file, which keeps its data.
        assertEquals(0, tk.call(task, MADVISE, AT, PAGE, MADV_DONTNEED));
        assertEquals("zero", new String(mem.read(AT, 4)));
        assertEquals("[zero][one][two]", pageStarts());

        // A private mapping's writes stay in it.
        long priv = mmap(0, PAGE, PROT_RW, MAP_PRIVATE, fd, 0);
        assertEquals(AddressSpace.Kind.PRIVATE_FILE, mem.kindAt(priv));
        mem.write(priv, "PRIV".getBytes());
        assertEquals("zero", new String(mem.read(AT, 4)));
        assertEquals("[zero][one][two]", pageStarts());
    }

    @Test
    void splitsUnmapOnlyTheirPiecesAndKeepTheData() throws IOException {
        Files.write(file, new byte[(int) (4 * PAGE)]);
        int fd = open(O_RDWR);
        assertEquals(AT, mmap(AT, 4 * PAGE, PROT_RW, MAP_SHARED | MAP_FIXED, fd, 0));
        for (int i = 0; i < 4; i++) mem.write(AT + i * PAGE, ("p" + i).getBytes());
        assertTrue(mem.mapOnFault(AT + PAGE), "the CPU gets the whole mapping on its first touch (one chunk)");
        tk.mapperCalls.clear();
        assertEquals(0, tk.call(task, MPROTECT, AT + PAGE, PAGE, PROT_READ));
        assertEquals(0, tk.call(task, MUNMAP, AT + 2 * PAGE, PAGE));
        // MAP_FIXED private memory over a shared page gets new host pages: the file's are not zeroed.
        assertEquals(AT + 3 * PAGE, mmap(AT + 3 * PAGE, PAGE, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
        assertEquals(java.util.List.of("protect 40001000 1000 1", "unmap 40002000 1000",
                "unmap 40003000 1000"), tk.mapperCalls, "the new page waits for the CPU's first touch");
        assertEquals(AddressSpace.Kind.SHARED_FILE, mem.kindAt(AT + PAGE));
        assertNull(mem.kindAt(AT + 2 * PAGE));
        assertEquals(AddressSpace.Kind.PRIVATE, mem.kindAt(AT + 3 * PAGE));
        assertEquals(0, mem.readLong(AT + 3 * PAGE));
        mem.write(AT, "P0".getBytes());
        assertEquals("p1", new String(mem.read(AT + PAGE, 2)), "the read-only piece still shows the file");
        assertEquals("[P0][p1][p2][p3]", pageStarts());
        assertEquals(0, tk.call(task, MUNMAP, AT, 4 * PAGE));
        assertTrue(mem.isFree(AT, 4 * PAGE));
        assertEquals("[P0][p1][p2][p3]", pageStarts(), "munmap keeps what was written");
    }

    @Test
    void pagesPastTheEndOfTheFileAreNotShownToTheCpu() throws IOException {
        Files.write(file, new byte[100]);
        int fd = open(O_RDWR);
        tk.mapperCalls.clear();
        assertEquals(AT, mmap(AT, 3 * PAGE, PROT_RW, MAP_SHARED | MAP_FIXED, fd, 0));
        assertTrue(mem.mapOnFault(AT + 8));
        assertFalse(mem.mapOnFault(AT + PAGE), "past the end of the file: a fault (SIGBUS)");
        assertEquals(java.util.List.of("map 40000000 1000 3"), tk.mapperCalls);
        assertFalse(mem.isPastEof(AT + PAGE - 1));
        assertTrue(mem.isPastEof(AT + PAGE));
        assertTrue(mem.isFullyMapped(AT, 3 * PAGE), "the range stays taken");
        assertThrows(GuestFault.class, () -> mem.readLong(AT + PAGE));
        assertEquals(-Errno.EFAULT, tk.call(task, 1, 1, AT + PAGE, 8), "write(2) from there");
        mem.write(AT + 90, "0123456789ABCDEF".getBytes()); // the file's last page, past its end
        assertEquals(0, tk.call(task, MPROTECT, AT, 3 * PAGE, PROT_READ));
        assertEquals(0, tk.call(task, MINCORE, AT, 3 * PAGE, SCRATCH + 512));
        assertArrayEquals(new byte[] {1, 0, 0}, mem.read(SCRATCH + 512, 3));
        assertEquals(0, tk.call(task, MUNMAP, AT, 3 * PAGE));
        assertEquals(java.util.List.of("map 40000000 1000 3", "protect 40000000 1000 1", "unmap 40000000 1000"),
                tk.mapperCalls);
        assertEquals("0123456789", new String(Files.readAllBytes(file), 90, 10));
        assertEquals(100, Files.size(file));
    }

    @Test
    void readOnlyFdsAndBadFlags() throws IOException {
        Files.write(file, "contents".getBytes());
        int ro = open(O_RDONLY);
        assertEquals(-Errno.EACCES, mmap(0, PAGE, PROT_RW, MAP_SHARED, ro, 0));
        long r = mmap(0, PAGE, PROT_READ, MAP_SHARED, ro, 0);
        assertEquals("contents", new String(mem.read(r, 8)));
        assertEquals(-Errno.EACCES, tk.call(task, MPROTECT, r, PAGE, PROT_RW));
        assertEquals(0, tk.call(task, MPROTECT, r, PAGE, 0));
        assertEquals(-Errno.EINVAL, mmap(0, PAGE, PROT_READ, MAP_SHARED, ro, 100));
        assertEquals(-Errno.ENOTSUP, mmap(0, PAGE, PROT_READ, 3 | 0x200, ro, 0));
        assertEquals(-Errno.EINVAL, mmap(0, PAGE, PROT_READ, 3 | MAP_ANONYMOUS, -1, 0));
        assertEquals(-Errno.EINVAL, mmap(0, PAGE, PROT_READ, 0, ro, 0));
        assertEquals(-Errno.EINVAL, tk.call(task, MSYNC, r, PAGE, 1 | 4));
        assertEquals(-Errno.ENOMEM, tk.call(task, MSYNC, 0x7000000000L, PAGE, MS_SYNC));
    }

    @Test
    void sharedAnonymousMemory() {
        long a = mmap(0, 2 * PAGE, PROT_RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assertEquals(AddressSpace.Kind.SHARED_ANON, mem.kindAt(a));
        mem.write(a + PAGE, "kept".getBytes());
        assertEquals(0, tk.call(task, MADVISE, a, 2 * PAGE, MADV_DONTNEED));
        assertEquals("kept", new String(mem.read(a + PAGE, 4)), "shared memory keeps its data, as Linux's shmem");
        assertEquals(0, tk.call(task, MUNMAP, a, PAGE));
        assertEquals("kept", new String(mem.read(a + PAGE, 4)));
    }
}
