/* short_vtable — DEFECT: the vtable's struct_size is offsetof(hc_driver_api, call), so the
 * required `call` lies outside it. The host must refuse the vtable at init.
 *
 * The fields past struct_size are nevertheless filled with working functions: a host that ignored
 * struct_size would then accept the driver, so the test can only pass by honouring struct_size
 * (and not, say, because it found a NULL). */
#define FX_NAME "short_vtable"
#include "fixture_common.h"

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    (uint32_t)offsetof(hc_driver_api, call), /* struct_size: DEFECT */
    HC_ABI_MINOR, 0,
    fx_std_describe, fx_std_create, fx_std_destroy,
    fx_std_call, /* outside struct_size: the host must not read it */
    NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
