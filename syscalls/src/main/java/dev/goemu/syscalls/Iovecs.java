package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A guest {@code struct iovec} array rebuilt with host pointers for a host call (readv, writev, sendmsg,
 * recvmsg), checked as Linux's import_iovec does: a negative length is EINVAL, the total is clamped to
 * MAX_RW_COUNT, an empty buffer may have any address.
 */
final class Iovecs {
    static final int UIO_MAXIOV = 1024, IOVEC_SIZE = 16;
    private static final long MAX_RW_COUNT = Integer.MAX_VALUE & -AddressSpace.PAGE;

    /** The host struct iovec[count]. */
    final MemorySegment array;
    final int count;
    private final List<AddressSpace.HostView> views;

    private Iovecs(MemorySegment array, int count, List<AddressSpace.HostView> views) {
        this.array = array;
        this.count = count;
        this.views = views;
    }

    /** The host copy of {@code count} (0..UIO_MAXIOV, checked by the caller) iovecs at {@code guestIov}; null: EINVAL. */
    static Iovecs of(AddressSpace memory, long guestIov, int count, Arena arena) {
        MemorySegment array = arena.allocate((long) IOVEC_SIZE * Math.max(count, 1), 8);
        List<AddressSpace.HostView> views = new ArrayList<>(count);
        long total = 0;
        for (int i = 0; i < count; i++) {
            long base = memory.readLong(guestIov + (long) IOVEC_SIZE * i);
            long len = memory.readLong(guestIov + (long) IOVEC_SIZE * i + 8);
            if (len < 0) return null;
            len = Math.min(len, MAX_RW_COUNT - total);
            total += len;
            long host = 0;
            if (len > 0) {
                AddressSpace.HostView v = memory.view(base, len, arena);
                views.add(v);
                host = v.address();
            }
            array.set(JAVA_LONG, (long) IOVEC_SIZE * i, host);
            array.set(JAVA_LONG, (long) IOVEC_SIZE * i + 8, len);
        }
        return new Iovecs(array, count, views);
    }

    /** After a host call that filled the buffers: copies bounce buffers back into guest memory. */
    void copyBack() {
        for (AddressSpace.HostView v : views) v.copyBack();
    }
}
