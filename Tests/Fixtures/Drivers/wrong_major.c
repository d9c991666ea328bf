/* wrong_major — DEFECT: the magic block names ABI major 2.
 * The host must refuse it from the magic block alone, before calling init. Everything else is
 * correct. */
#define FX_NAME "wrong_major"
#include "fixture_common.h"

static const hc_driver_magic magic = {
    HC_MAGIC, /* magic */
    (uint32_t)sizeof(hc_driver_magic),
    2u, /* abi_major: DEFECT */
    HC_ABI_MINOR,
    (uint32_t)sizeof(void *), /* pointer_size */
    0u, "c", FX_NAME, "1.0.0"};

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, fx_std_create, fx_std_destroy, fx_std_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
