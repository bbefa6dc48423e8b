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
    private static final long MAX_RW_COUNT = Passthrough.MAX_RW_COUNT;

    /** The host struct iovec[count]. */
    final MemorySegment array;
    final int count;
    private final List<AddressSpace.HostView> views;

    private Iovecs(MemorySegment array, int count, List<AddressSpace.HostView> views) {
        this.array = array;
        this.count = count;
        this.views = views;
    }

    /**
     * The host copy of {@code count} (0..UIO_MAXIOV, checked by the caller) iovecs at {@code guestIov}, whose
     * buffers the call reads ({@link AddressSpace#READ}) or writes ({@link AddressSpace#WRITE}); null: EINVAL. As
     * Linux, a buffer leaving user space is EFAULT (GuestFault), an inaccessible first buffer too, and a later one
     * ends the list there: the call transfers what comes before it (a short count).
     */
    static Iovecs of(AddressSpace memory, long guestIov, int count, int access, Arena arena) {
        MemorySegment array = arena.allocate((long) IOVEC_SIZE * Math.max(count, 1), 8);
        List<AddressSpace.HostView> views = new ArrayList<>(count);
        long total = 0;
        int entries = -1; // how many entries the host gets, once an inaccessible page cut the list
        for (int i = 0; i < count; i++) {
            long base = memory.readLong(guestIov + (long) IOVEC_SIZE * i);
            long len = memory.readLong(guestIov + (long) IOVEC_SIZE * i + 8);
            if (len < 0) return null;
            len = Math.min(len, MAX_RW_COUNT - total);
            if (!AddressSpace.accessOk(base, len)) throw new GuestFault(base);
            if (entries >= 0) continue;
            long host = 0;
            if (len > 0) {
                AddressSpace.HostView v;
                try {
                    v = memory.view(base, len, access, arena);
                } catch (GuestFault f) {
                    if (i == 0) throw f;
                    entries = i;
                    continue;
                }
                views.add(v);
                host = v.address();
                if (v.len() < len) entries = i + 1;
                len = v.len();
            }
            total += len;
            array.set(JAVA_LONG, (long) IOVEC_SIZE * i, host);
            array.set(JAVA_LONG, (long) IOVEC_SIZE * i + 8, len);
        }
        return new Iovecs(array, entries >= 0 ? entries : count, views);
    }

    /** After a host call that filled the buffers: copies bounce buffers back into guest memory. */
    void copyBack() {
        for (AddressSpace.HostView v : views) v.copyBack();
    }
}
