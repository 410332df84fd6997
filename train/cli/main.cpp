// The `heed` program: see train/command.h.
#include <string>
#include <vector>

#include "train/command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return heed::train::run_command_line(args);
}
