// Everything in nn: Module and holders, layers, losses, functional, init,
// summary, safetensors.
#pragma once

#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/container.h"
#include "nn/conv.h"
#include "nn/conv_bn_fold.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/functional.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "nn/rnn.h"
#include "nn/safetensors.h"
#include "nn/state_dict.h"
#include "nn/summary.h"
