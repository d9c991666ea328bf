/* create_fails — DEFECT (deliberate failure): create validates its config (malformed →
 * INVALID_ARGUMENT as usual) and then always returns HC_ERR_FAILED_PRECONDITION with error JSON,
 * leaving *out_instance NULL and allocating nothing else. The host must report the error and
 * leak nothing. Everything else is correct. */
#define FX_NAME "create_fails"
#include "fixture_common.h"

static hc_status create_fails_create(hc_str config_json, void **out_instance, hc_buf *out_error_json) {
  hc_status st;
  fx_buf_clear(out_error_json);
  if (out_instance == NULL)
    return fx_errorf(out_error_json, HC_ERR_INVALID_ARGUMENT, "create_fails: create: out_instance is NULL");
  *out_instance = NULL;
  st = fx_check_json(config_json, "config", out_error_json);
  if (st != HC_OK) return st;
  return fx_errorf(out_error_json, HC_ERR_FAILED_PRECONDITION, /* DEFECT */
                   "create_fails: cannot reach backend at config.endpoint");
}

static const hc_driver_magic magic = FX_MAGIC_INIT;

static hc_driver_api api = {
    sizeof(hc_driver_api), HC_ABI_MINOR, 0,
    fx_std_describe, create_fails_create, fx_std_destroy, fx_std_call, NULL, NULL, NULL, NULL};

HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &magic; }

HC_EXPORT hc_status hc_driver_init_v1(const hc_init_args *args, const hc_driver_api **out_api,
                                      hc_buf *out_error_json) {
  return fx_init(args, &api, HC_ABI_MINOR, out_api, out_error_json);
}
