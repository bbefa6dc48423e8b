package dev.goemu.syscalls;

/** Linux errno values the kernel answers with (negated, as the raw syscall ABI returns them). */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, ECHILD = 10,
            EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EEXIST = 17, ENOTDIR = 20, EINVAL = 22,
            EMFILE = 24, ENOTTY = 25, ESPIPE = 29, ERANGE = 34, ENOSYS = 38, ENOTSUP = 95, ETIMEDOUT = 110,
            E2BIG = 7, ENOEXEC = 8, ENAMETOOLONG = 36;

    private Errno() {}

    /** The C name of an errno value, for strace output. */
    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM"; case ENOENT -> "ENOENT"; case ESRCH -> "ESRCH"; case EINTR -> "EINTR";
            case EIO -> "EIO"; case EBADF -> "EBADF"; case ECHILD -> "ECHILD"; case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM"; case EACCES -> "EACCES"; case EFAULT -> "EFAULT"; case EEXIST -> "EEXIST";
            case ENOTDIR -> "ENOTDIR"; case EINVAL -> "EINVAL"; case EMFILE -> "EMFILE"; case ENOTTY -> "ENOTTY";
            case ESPIPE -> "ESPIPE"; case ERANGE -> "ERANGE"; case ENOSYS -> "ENOSYS"; case ENOTSUP -> "EOPNOTSUPP";
            case ETIMEDOUT -> "ETIMEDOUT"; case 21 -> "EISDIR"; case 32 -> "EPIPE"; case 39 -> "ENOTEMPTY";
            case 111 -> "ECONNREFUSED"; case 115 -> "EINPROGRESS"; case ENAMETOOLONG -> "ENAMETOOLONG";
            case E2BIG -> "E2BIG"; case ENOEXEC -> "ENOEXEC";
            default -> "E" + errno;
        };
    }
}
