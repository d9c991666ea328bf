// Process-wide SQLite settings that Swift cannot reach: sqlite3_config is variadic.
#pragma once
#include <sqlite3.h>

// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS). With them on, every SQLite
// allocation and free takes one global mutex; the store's writer thread spent ~8 % of its time
// there under 16 concurrent writers. Must run before SQLite initialises (before the first
// connection of the process); later calls change nothing and return SQLITE_MISUSE.
static inline int hc_sqlite_disable_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
