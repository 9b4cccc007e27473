// Facts about the build and the machine that a run records in its manifest.
#pragma once

#include <string>

namespace cadenza {

struct SystemInfo {
  std::string cadenza_version;
  std::string compiler;
  std::string git_commit;  // "unknown" outside a git checkout
  bool git_dirty = false;  // tracked files differ from the commit
  std::string onednn_version;
  std::string onednn_isa;
  std::string tbb_version;
  std::string hdf5_version;
  std::string cpu_model;
  std::string host;
};

SystemInfo collect_system_info();

}  // namespace cadenza
