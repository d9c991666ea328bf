// fd-guard: an LD_PRELOAD shim that reports every close() of a descriptor that was not open,
// and every shutdown() of one that was not an open socket.
//
// Why: a descriptor closed twice is a latent bug that surfaces far away. Between the two closes
// another thread can open a file and get the same number; the second close then closes *that*
// file. In this project it was SQLite's database file, which failed a random store test with
// "disk I/O error" once in many runs (see DirectoryLock in Sources/Host/Store/Secrets.swift).
// Most double closes hit a number that is still free and fail with EBADF, so reporting every
// EBADF from close() finds them deterministically, whatever the timing. shutdown() of a stale
// number is the same bug with a socket (a test proxy once shut down whatever socket had taken
// the number of one it had closed: another test's driver runner, which then exited).
//
// scripts/test.sh builds this file, runs the test process (and every process it spawns) with
// it preloaded and HC_FD_GUARD_LOG set, and fails the run if the log is not empty. Only
// processes whose executable path contains HC_FD_GUARD_ONLY report (our binaries under
// .build/): shells close descriptors that may not be open on purpose.
//
// Build: cc -shared -fPIC -O1 -o fd-guard.so fd-guard.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int (*real_close)(int);
static int (*real_shutdown)(int, int);

static int is_guarded(void) {
  const char *only = getenv("HC_FD_GUARD_ONLY");
  if (!only || !*only) return 1;
  char exe[4096];
  ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length <= 0) return 0;
  exe[length] = 0;
  return strstr(exe, only) != NULL;
}

static void report(const char *what, int fd) {
  int saved = errno;
  if (!real_close) real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
  const char *path = getenv("HC_FD_GUARD_LOG");
  int log = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : 2;
  if (log >= 0) {
    char header[160];
    int length = snprintf(header, sizeof header, "== %s(%d) of a descriptor that was not %s, pid %d\n", what, fd,
                          what[0] == 'c' ? "open" : "an open socket", getpid());
    if (length > 0) write(log, header, (size_t)length);
    void *frames[48];
    backtrace_symbols_fd(frames, backtrace(frames, 48), log);
    if (log != 2) real_close(log);
  }
  errno = saved;
}

int close(int fd) {
  if (!real_close) real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
  int rc = real_close(fd);
  if (rc == -1 && errno == EBADF && fd >= 0 && is_guarded()) report("close", fd);
  return rc;
}

int shutdown(int fd, int how) {
  if (!real_shutdown) real_shutdown = (int (*)(int, int))dlsym(RTLD_NEXT, "shutdown");
  int rc = real_shutdown(fd, how);
  if (rc == -1 && (errno == EBADF || errno == ENOTSOCK) && fd >= 0 && is_guarded()) report("shutdown", fd);
  return rc;
}
