/* missing_init — DEFECT: exports hc_driver_magic_v1 (a correct block) but no hc_driver_init_v1
 * symbol at all. The host must refuse it after reading the magic block. */
#define FX_NAME "missing_init"
#include "fixture_common.h"

static const hc_driver_magic magic = FX_MAGIC_INIT;

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }
