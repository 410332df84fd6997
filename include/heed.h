// The umbrella header: #include <heed.h> for the whole public API.
#pragma once

#include "attention/attention.h"
#include "core/heed_core.h"
#include "data/data.h"
#include "nn/nn.h"
#include "optim/optim.h"
