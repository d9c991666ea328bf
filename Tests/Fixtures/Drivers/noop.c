/* noop — the reference correct fixture: synchronous only, capabilities 0, no shutdown.
 * Logs one INFO line through host->log at init (after checking log_enabled). */
#define FX_NAME "noop"
#include "fixture_common.h"

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0, /* struct_size, abi_minor (set by init), capabilities */
    fx_std_describe, fx_std_create, fx_std_destroy, fx_std_call,
    NULL, /* call_async */
    NULL, /* cancel */
    NULL, /* get_extension */
    NULL, /* shutdown: no threads, nothing to stop */
};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  hc_status st = fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
  if (st == HC_OK)
    fx_logf(HC_LOG_INFO, "noop: initialised (ABI %u.%u)", (unsigned)HC_ABI_MAJOR,
            (unsigned)api.abi_minor);
  return st;
}
