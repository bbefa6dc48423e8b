package dev.goemu.syscalls;

/** Linux errno values the kernel answers with (negated, as the raw syscall ABI returns them). */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, E2BIG = 7, ENOEXEC = 8, EBADF = 9,
            ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EEXIST = 17, ENOTDIR = 20, EINVAL = 22,
            EMFILE = 24, ENOTTY = 25, ESPIPE = 29, ERANGE = 34, ENAMETOOLONG = 36, ENOSYS = 38, EMSGSIZE = 90,
            ENOTSUP = 95, ENOBUFS = 105, ETIMEDOUT = 110;

    private Errno() {}

    /** The C name of an errno value, for strace output. */
    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM"; case ENOENT -> "ENOENT"; case ESRCH -> "ESRCH"; case EINTR -> "EINTR";
            case EIO -> "EIO"; case E2BIG -> "E2BIG"; case ENOEXEC -> "ENOEXEC"; case EBADF -> "EBADF";
            case ECHILD -> "ECHILD"; case EAGAIN -> "EAGAIN"; case ENOMEM -> "ENOMEM"; case EACCES -> "EACCES";
            case EFAULT -> "EFAULT"; case EEXIST -> "EEXIST"; case ENOTDIR -> "ENOTDIR"; case 21 -> "EISDIR";
            case EINVAL -> "EINVAL"; case EMFILE -> "EMFILE"; case ENOTTY -> "ENOTTY"; case ESPIPE -> "ESPIPE";
            case 32 -> "EPIPE"; case ERANGE -> "ERANGE"; case ENAMETOOLONG -> "ENAMETOOLONG"; case ENOSYS -> "ENOSYS";
            case 39 -> "ENOTEMPTY"; case EMSGSIZE -> "EMSGSIZE"; case ENOTSUP -> "EOPNOTSUPP"; case ENOBUFS -> "ENOBUFS";
            case ETIMEDOUT -> "ETIMEDOUT"; case 111 -> "ECONNREFUSED"; case 115 -> "EINPROGRESS";
            default -> "E" + errno;
        };
    }
}
