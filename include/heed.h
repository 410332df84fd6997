// The umbrella header: #include <heed.h> for the whole public API.
#pragma once

#include "core/heed_core.h"
#include "nn/nn.h"
#include "optim/optim.h"
