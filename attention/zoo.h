// The further attention modules (attention_spec.md §12), beyond the seeds
// that attention/attention.h gathers. Each is also in the registry by name
// (simam, triplet, bam, gc, ge, sk, external, ese, shuffle, psa, danet, sge,
// criss_cross).
#pragma once

#include "attention/bam.h"
#include "attention/criss_cross.h"
#include "attention/danet.h"
#include "attention/ese.h"
#include "attention/external.h"
#include "attention/gc.h"
#include "attention/ge.h"
#include "attention/psa.h"
#include "attention/sge.h"
#include "attention/shuffle.h"
#include "attention/simam.h"
#include "attention/sk.h"
#include "attention/triplet.h"
