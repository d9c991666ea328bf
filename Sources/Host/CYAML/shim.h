/* libyaml (pkg-config yaml-0.1), used only through its event parser by the YAML module.
 * The event API needs no variadic calls or macros, so the shim only includes the header. */
#ifndef HICLAW_CYAML_SHIM_H
#define HICLAW_CYAML_SHIM_H
#include <yaml.h>
#endif
