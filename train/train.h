// Everything in train: models, the Trainer and its callbacks, runs,
// experiments, the gradcheck suite, attention maps, plots.
#pragma once

#include "train/attention_map.h"
#include "train/bench.h"
#include "train/callbacks.h"
#include "train/experiment.h"
#include "train/gradcheck_suite.h"
#include "train/metrics.h"
#include "train/models/bilstm_attention.h"
#include "train/models/factory.h"
#include "train/models/resnet_cifar.h"
#include "train/models/simple_cnn.h"
#include "train/models/vit.h"
#include "train/plot.h"
#include "train/run.h"
#include "train/tensorboard.h"
#include "train/trainer.h"
