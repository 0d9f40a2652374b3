#include "engine/experiment/atomic_file.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace orchsim::experiment {

void WriteFileAtomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec)
    throw std::runtime_error("cannot create " + target.parent_path().string() + ": " +
                             ec.message());
  const fs::path temporary = target.string() + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      fs::remove(temporary, ec);
      throw std::runtime_error("cannot write " + temporary.string());
    }
  }
  fs::rename(temporary, target, ec);
  if (ec) {
    fs::remove(temporary, ec);
    throw std::runtime_error("cannot write " + target.string() + ": " + ec.message());
  }
}

}  // namespace orchsim::experiment
