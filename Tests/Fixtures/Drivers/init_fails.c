/* init_fails — DEFECT (deliberate failure): init always returns HC_ERR_FAILED_PRECONDITION with
 * error JSON, and leaves *out_api NULL. The host must report the message and never call the
 * driver again. Magic block correct. */
#define FX_NAME "init_fails"
#include "fixture_common.h"

static const hc_driver_magic magic = FX_MAGIC_INIT;

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  if (out_api != NULL) *out_api = NULL;
  fx_buf_clear(out_error_json);
  /* The host table is stored so that the error JSON can be allocated with host->alloc. */
  if (args == NULL || !HC_HAS_FIELD(hc_init_args, host, args->struct_size) ||
      fx_store_host(args->host) != HC_OK)
    return HC_ERR_FAILED_PRECONDITION;
  return fx_errorf(out_error_json, HC_ERR_FAILED_PRECONDITION,
                   "init_fails: refusing to start (this fixture always fails init)");
}
