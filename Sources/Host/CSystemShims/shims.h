/* Linux calls Swift's Glibc module does not import (they need _GNU_SOURCE or are macros). */
#ifndef HICLAW_CSYSTEM_SHIMS_H
#define HICLAW_CSYSTEM_SHIMS_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel thread id of the calling thread. */
static inline int hc_gettid(void) { return (int)syscall(SYS_gettid); }

/* Names the calling thread (the kernel keeps 15 bytes). */
static inline void hc_set_thread_name(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

/* Returns the heap's free memory to the kernel (glibc keeps it after a burst of allocations). */
static inline void hc_release_free_memory(void) { malloc_trim(0); }

/* Asks the kernel to SIGKILL this process when its parent dies. */
static inline void hc_die_with_parent(void) { prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }

/* glibc 2.34+; <spawn.h> declares it only under _GNU_SOURCE, and including <spawn.h> here would
   clash with the Glibc module's own copy of it. `actions` is a posix_spawn_file_actions_t *. */
extern int posix_spawn_file_actions_addclosefrom_np(void *actions, int from);

/* Makes a spawned child close every descriptor from `from` up: a child must not inherit the
   parent's other files, sockets and pipes, whatever their close-on-exec flag. */
static inline int hc_spawn_close_from(void *actions, int from) {
  return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#endif
