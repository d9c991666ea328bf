/* future_minor — correct, but built as if for ABI minor 7 (a newer driver on an older host):
 * its magic block says abi_minor 7, its vtable is hc_driver_api followed by two functions a
 * minor-7 header would have appended (struct_size = the larger size), and init answers with
 * abi_minor = min(host minor, 7). The host must accept it and ignore what lies past its own
 * struct. */
#define FX_NAME "future_minor"
#include "fixture_common.h"

#define FUTURE_MINOR 7u

/* The vtable as a minor-7 driver would see it. */
typedef struct future_minor_api {
  hc_driver_api v1_0;                         /* everything minor 0 defines */
  hc_status (*future_fn_a)(void *instance);   /* appended "in minor 3" */
  uint64_t (*future_fn_b)(void *instance);    /* appended "in minor 7" */
} future_minor_api;

static hc_status future_fn_a(void *instance) { return fx_instance_ok(instance) ? HC_OK : HC_ERR_INVALID_ARGUMENT; }
static uint64_t future_fn_b(void *instance) { (void)instance; return 7; }

static const hc_driver_magic magic = {
    HC_MAGIC, (uint32_t)sizeof(hc_driver_magic), HC_ABI_MAJOR,
    FUTURE_MINOR, /* abi_minor: newer than the host */
    (uint32_t)sizeof(void *), 0u, "c", FX_NAME, "1.0.0"};

static future_minor_api api = {
    {(uint32_t)sizeof(future_minor_api), /* struct_size: larger than the host's hc_driver_api */
     FUTURE_MINOR, 0,
     fx_std_describe, fx_std_create, fx_std_destroy, fx_std_call, NULL, NULL, NULL, NULL},
    future_fn_a,
    future_fn_b,
};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api.v1_0, FUTURE_MINOR, out_api, out_error_json);
}
