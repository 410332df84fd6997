// The `heed` command line (train/cli/main.cpp calls run_command_line):
//
//   heed train [--model resnet20 --attention "se" --dataset fashion-mnist --epochs 1 ...]
//   heed eval --checkpoint runs/x/best.safetensors
//   heed summary --model resnet20 --attention cbam
//   heed gradcheck [--module cbam | --all]
//   heed experiment --grid "attention=none,se,cbam; pos=standard,post" --epochs 2 --seeds 3
//   heed attention-map --checkpoint runs/x/best.safetensors --index 0
//   heed bench
//
// Every error (bad flag, unknown model/module/dataset, missing data,
// unreadable checkpoint) is one line on `err` and a non-zero status.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace heed::train {

// args[0] is the program name. Returns the exit status: 0 on success, 1 on
// an error, 2 on a command-line (usage) error.
int run_command_line(const std::vector<std::string>& args, std::FILE* out = stdout,
                     std::FILE* err = stderr);

}  // namespace heed::train
