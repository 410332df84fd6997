// Everything in attention: the placeable modules (SE, CBAM, ECA, coordinate
// attention, non-local, SAGAN self-attention), the sequence modules
// (ScaledDotProductAttention, MultiheadAttention, AttentionPooling,
// PositionalEncoding, TransformerEncoderLayer, PatchEmbedding), the registry
// and placement. Modules of the further zoo have their own headers.
#pragma once

#include "attention/attention_module.h"
#include "attention/attention_pooling.h"
#include "attention/cbam.h"
#include "attention/coord_attention.h"
#include "attention/eca.h"
#include "attention/multihead_attention.h"
#include "attention/non_local.h"
#include "attention/patch_embedding.h"
#include "attention/placement.h"
#include "attention/positional_encoding.h"
#include "attention/registry.h"
#include "attention/scaled_dot_product_attention.h"
#include "attention/se.h"
#include "attention/self_attention2d.h"
#include "attention/transformer.h"
