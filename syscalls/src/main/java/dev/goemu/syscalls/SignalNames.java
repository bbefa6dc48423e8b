package dev.goemu.syscalls;

/** Linux signal names by number, for strace and messages. */
public final class SignalNames {
    private static final String[] NAMES = ("- SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 "
            + "SIGSEGV SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP SIGTTIN SIGTTOU SIGURG "
            + "SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS").split(" ");

    private SignalNames() {}

    public static String name(int sig) {
        return sig > 0 && sig < NAMES.length ? NAMES[sig] : "SIGRT" + (sig - 32);
    }
}
