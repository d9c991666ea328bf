/* bad_describe — DEFECT: describe returns HC_OK with invalid (truncated) JSON
 * `{"name": "bad_describe", `. Everything else is correct. */
#define FX_NAME "bad_describe"
#include "fixture_common.h"

static hc_status bad_describe_describe(hc_buf *out_json) {
  if (out_json == NULL) return HC_ERR_INVALID_ARGUMENT;
  return fx_ok(out_json, "{\"name\": \"bad_describe\", "); /* DEFECT */
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    bad_describe_describe, fx_std_create, fx_std_destroy, fx_std_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
