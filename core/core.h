/* core/core.h: the foundation every folder of eddy builds on; it includes
 * nothing of eddy's outside core/. */
#ifndef EDDY_CORE_H
#define EDDY_CORE_H

#include "core/error.h"
#include "core/buf.h"
#include "core/rng.h"
#include "core/dict.h"
#include "core/schema.h"
#include "core/options.h"
#include "core/checkpoint.h"
#include "core/util.h"
#include "core/conf.h"



#endif /* EDDY_CORE_H */
