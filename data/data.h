// The data layer: datasets (CIFAR-10/100 binary, MNIST/Fashion-MNIST IDX,
// image folders), transforms and the threaded DataLoader.
#pragma once

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/formats.h"
#include "data/image.h"
#include "data/image_folder.h"
#include "data/io.h"
#include "data/loader.h"
#include "data/mnist.h"
#include "data/transforms.h"
