/* no_symbols — DEFECT: a shared library that exports neither entry point (its only function has
 * hidden visibility). The host must refuse it: it is not a hiclaw driver. */
#include "hiclaw_driver.h"

int no_symbols_hidden_function(void); /* hidden: built with -fvisibility=hidden */

int no_symbols_hidden_function(void) { return HC_ABI_MAJOR; }
