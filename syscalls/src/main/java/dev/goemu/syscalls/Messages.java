package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.IntUnaryOperator;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * sendmsg and recvmsg (and their mmsg batches): the guest's {@code struct msghdr} rebuilt for the host with
 * host pointers, checked as Linux's __copy_msghdr does, and the control messages translated. SCM_RIGHTS (and
 * a received SCM_PIDFD) carry fds: guest numbers become host fds when sending, and received host fds become new
 * guest fds, the message rewritten with their numbers. SCM_CREDENTIALS carries a pid: the guest's own pid is
 * goemu's on the host. Other control messages hold no fds or pointers and pass as they are.
 */
final class Messages {
    static final int MSGHDR_SIZE = 56, MMSGHDR_SIZE = 64, CMSG_HDR = 16;
    static final int SOL_SOCKET = 1, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2, SCM_PIDFD = 4;
    static final long MSG_DONTWAIT = 0x40, MSG_WAITFORONE = 0x10000;
    private static final int NAME = 0, NAMELEN = 8, IOV = 16, IOVLEN = 24, CONTROL = 32, CONTROLLEN = 40, FLAGS = 48;
    private static final int MSG_LEN = 56, SOCKADDR_STORAGE = 128;
    /**
     * Control data copied for one call: sending more than the host's optmem_max (20-128 KiB) fails with ENOBUFS
     * there anyway; received control messages are far smaller (SCM_MAX_FD is 253 fds).
     */
    private static final long SEND_CONTROL_MAX = 1 << 20, RECV_CONTROL_MAX = 64 << 10;

    private final Kernel k;
    private final int hostPid = (int) ProcessHandle.current().pid();

    Messages(Kernel k) {
        this.k = k;
    }

    /** A guest msghdr that Linux would refuse, with the errno. */
    private static final class Refused extends Exception {
        final int errno;

        Refused(int errno) {
            super(null, null, false, false);
            this.errno = errno;
        }
    }

    /** The host copy of a guest msghdr: name and iovecs point at guest memory (or bounce buffers), control unset. */
    private record Header(MemorySegment host, AddressSpace.HostView name, Iovecs iov, long control, long controlLen) {}

    /** {@code access}: READ for a message sent (its buffers are read), WRITE for one received. */
    private Header header(long msg, int access, Arena arena) throws Refused {
        long name = k.memory.readLong(msg + NAME);
        int nameLen = k.memory.readInt(msg + NAMELEN);
        long iov = k.memory.readLong(msg + IOV), iovLen = k.memory.readLong(msg + IOVLEN);
        if (nameLen < 0) throw new Refused(Errno.EINVAL);
        if (iovLen < 0 || iovLen > Iovecs.UIO_MAXIOV) throw new Refused(Errno.EMSGSIZE);
        nameLen = name == 0 ? 0 : Math.min(nameLen, SOCKADDR_STORAGE);
        AddressSpace.HostView nameView = k.memory.view(nameLen == 0 ? 0 : name, nameLen, access, arena);
        Iovecs iovecs = Iovecs.of(k.memory, iov, (int) iovLen, access, arena);
        if (iovecs == null) throw new Refused(Errno.EINVAL);
        MemorySegment h = arena.allocate(MSGHDR_SIZE, 8);
        h.set(JAVA_LONG, NAME, nameView.address());
        h.set(JAVA_INT, NAMELEN, nameLen);
        h.set(JAVA_LONG, IOV, iovecs.array.address());
        h.set(JAVA_LONG, IOVLEN, iovecs.count);
        return new Header(h, nameView, iovecs, k.memory.readLong(msg + CONTROL), k.memory.readLong(msg + CONTROLLEN));
    }

    /** sendmsg on host fd {@code fd} of the guest msghdr at {@code msg}. */
    long send(int fd, long msg, long flags) {
        try (Arena arena = Arena.ofConfined()) {
            Header m = header(msg, AddressSpace.READ, arena);
            if (m.controlLen != 0) {
                if (m.controlLen < 0 || m.controlLen > SEND_CONTROL_MAX) return -Errno.ENOBUFS;
                MemorySegment ctl = arena.allocate(m.controlLen, 8);
                MemorySegment.copy(k.memory.read(m.control, (int) m.controlLen), 0, ctl, JAVA_BYTE, 0, (int) m.controlLen);
                long r = controlToHost(ctl, this::hostFdOrError, pid -> pid == k.pid ? hostPid : pid);
                if (r < 0) return r;
                m.host.set(JAVA_LONG, CONTROL, ctl.address());
                m.host.set(JAVA_LONG, CONTROLLEN, m.controlLen);
            }
            return Host.syscall(Sys.SENDMSG.nr, fd, m.host.address(), flags, 0, 0, 0);
        } catch (Refused e) {
            return -e.errno;
        }
    }

    /** recvmsg on host fd {@code fd} into the guest msghdr at {@code msg}. */
    long receive(int fd, long msg, long flags) {
        try (Arena arena = Arena.ofConfined()) {
            Header m = header(msg, AddressSpace.WRITE, arena);
            long room = m.control == 0 ? 0 : m.controlLen < 0 || m.controlLen > RECV_CONTROL_MAX ? RECV_CONTROL_MAX : m.controlLen;
            MemorySegment ctl = arena.allocate(Math.max(room, 1), 8);
            if (room > 0) {
                m.host.set(JAVA_LONG, CONTROL, ctl.address());
                m.host.set(JAVA_LONG, CONTROLLEN, room);
            }
            long r = Host.syscall(Sys.RECVMSG.nr, fd, m.host.address(), flags, 0, 0, 0);
            if (r < 0) return r;
            m.iov.copyBack();
            m.name.copyBack();
            long used = room > 0 ? m.host.get(JAVA_LONG, CONTROLLEN) : 0;
            controlToGuest(ctl, used, hostFd -> (int) k.fds.install(hostFd), pid -> pid == hostPid ? k.pid : pid);
            if (used > 0) k.memory.write(m.control, ctl.asSlice(0, used).toArray(JAVA_BYTE));
            if (m.name.address() != 0) k.memory.writeInt(msg + NAMELEN, m.host.get(JAVA_INT, NAMELEN));
            k.memory.writeLong(msg + CONTROLLEN, used);
            k.memory.writeInt(msg + FLAGS, m.host.get(JAVA_INT, FLAGS));
            return r;
        } catch (Refused e) {
            return -e.errno;
        }
    }

    /**
     * sendmmsg/recvmmsg: one message after another, each msg_len set, until {@code vlen} (at most UIO_MAXIOV, as
     * Linux clamps it) or an error, which is the result only if no message went. Only the first message may wait
     * (the caller blocks the task for it): later ones go while the fd is ready, as with MSG_WAITFORONE.
     */
    long batch(int guestFd, int fd, long vec, long vlen, long flags, boolean sending) {
        int n = (int) Math.min(vlen & 0xffffffffL, Iovecs.UIO_MAXIOV);
        short events = sending ? Blocking.POLLOUT : Blocking.POLLIN;
        int done = 0;
        for (; done < n; done++) {
            if (done > 0 && k.fds.mayBlock(guestFd) && (flags & MSG_DONTWAIT) == 0 && !Blocking.ready(fd, events)) break;
            long msg = vec + (long) MMSGHDR_SIZE * done;
            long r = sending ? send(fd, msg, flags) : receive(fd, msg, flags & ~MSG_WAITFORONE);
            if (r < 0) {
                if (done == 0) return r;
                break;
            }
            k.memory.writeInt(msg + MSG_LEN, (int) r);
        }
        return done;
    }

    private int hostFdOrError(int guestFd) {
        int h = k.fds.host(guestFd);
        return h < 0 ? -Errno.EBADF : h;
    }

    /**
     * Rewrites guest control messages for the host in place: SCM_RIGHTS fds through {@code hostFd} (a negative
     * answer is the errno), the SCM_CREDENTIALS pid through {@code hostPid}. -EINVAL for a malformed header, as
     * Linux's __scm_send.
     */
    static long controlToHost(MemorySegment ctl, IntUnaryOperator hostFd, IntUnaryOperator hostPid) {
        return forEach(ctl, ctl.byteSize(), (level, type, data, len) -> {
            if (level != SOL_SOCKET) return 0;
            if (type == SCM_RIGHTS) {
                for (long off = 0; off + 4 <= len; off += 4) {
                    int h = hostFd.applyAsInt(ctl.get(JAVA_INT, data + off));
                    if (h < 0) return h;
                    ctl.set(JAVA_INT, data + off, h);
                }
            } else if (type == SCM_CREDENTIALS && len >= 4) {
                ctl.set(JAVA_INT, data, hostPid.applyAsInt(ctl.get(JAVA_INT, data)));
            }
            return 0;
        });
    }

    /**
     * Rewrites the first {@code len} bytes of control messages the host received for the guest: each passed fd
     * (SCM_RIGHTS, SCM_PIDFD) becomes the guest fd {@code install} gives it, the SCM_CREDENTIALS pid goes through
     * {@code guestPid}.
     */
    static void controlToGuest(MemorySegment ctl, long len, IntUnaryOperator install, IntUnaryOperator guestPid) {
        forEach(ctl, len, (level, type, data, dataLen) -> {
            if (level != SOL_SOCKET) return 0;
            if (type == SCM_RIGHTS || type == SCM_PIDFD) {
                for (long off = 0; off + 4 <= dataLen; off += 4) {
                    ctl.set(JAVA_INT, data + off, install.applyAsInt(ctl.get(JAVA_INT, data + off)));
                }
            } else if (type == SCM_CREDENTIALS && dataLen >= 4) {
                ctl.set(JAVA_INT, data, guestPid.applyAsInt(ctl.get(JAVA_INT, data)));
            }
            return 0;
        });
    }

    @FunctionalInterface
    private interface CmsgVisitor {
        /** One control message: its data at offset {@code data}, {@code len} bytes; 0 to go on, or -errno. */
        long visit(int level, int type, long data, long len);
    }

    /** Walks control messages like CMSG_FIRSTHDR/CMSG_NXTHDR; -EINVAL if one's cmsg_len does not fit (CMSG_OK). */
    private static long forEach(MemorySegment ctl, long len, CmsgVisitor v) {
        for (long off = 0; off + CMSG_HDR <= len; ) {
            long cmsgLen = ctl.get(JAVA_LONG, off);
            if (cmsgLen < CMSG_HDR || cmsgLen > len - off) return -Errno.EINVAL;
            long r = v.visit(ctl.get(JAVA_INT, off + 8), ctl.get(JAVA_INT, off + 12), off + CMSG_HDR, cmsgLen - CMSG_HDR);
            if (r < 0) return r;
            off += (cmsgLen + 7) & -8;
        }
        return 0;
    }
}
