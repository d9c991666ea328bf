/* wrong_pointer_size — DEFECT: the magic block claims pointer_size 4 (as a 32-bit build would).
 * The host must refuse it from the magic block alone, before calling init. Everything else is
 * correct. */
#define FX_NAME "wrong_pointer_size"
#include "fixture_common.h"

static const hc_driver_magic magic = {
    HC_MAGIC, /* magic */
    (uint32_t)sizeof(hc_driver_magic),
    HC_ABI_MAJOR, /* abi_major */
    HC_ABI_MINOR,
    4u, /* pointer_size: DEFECT */
    0u, "c", FX_NAME, "1.0.0"};

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, fx_std_create, fx_std_destroy, fx_std_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
