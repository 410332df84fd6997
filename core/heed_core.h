// Everything in core: tensors, ops, autograd, gradcheck, threads, CUDA devices.
#pragma once

#include "core/autograd/grad_mode.h"
#include "core/autograd/gradcheck.h"
#include "core/check.h"
#include "core/cuda/cuda.h"
#include "core/generator.h"
#include "core/ops/ops.h"
#include "core/parallel.h"
#include "core/tensor.h"
