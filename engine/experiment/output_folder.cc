#include "engine/experiment/output_folder.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>  // renameat2 (glibc >= 2.28)
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include "engine/experiment/atomic_file.h"
#include "policies/config/input_file.h"
#include "policies/config/json_reader.h"

namespace orchsim::experiment {
namespace fs = std::filesystem;
namespace {

constexpr const char* kLockSuffix = ".orchsim-lock";
constexpr const char* kTempInfix = ".orchsim-tmp-";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Entry names a kind of folder may hold (for folders of an orchsim that wrote
// no marker). Temporary names (*.partial, .orchsim-tmp-*) count as the kind's.
bool IsNameOf(const std::string& kind, const std::string& name) {
  if (EndsWith(name, ".partial") || StartsWith(name, kTempInfix)) return true;
  static const std::set<std::string> kRun = {
      "summary.json",  "summary.csv",   "timeseries.csv", "quota.csv",
      "staleness.csv", "report.md",     "calls.png",      "calls.svg",
      "wait.png",      "wait.svg",      "latency.png",    "latency.svg",
      "quota.png",     "quota.svg",     "breakers.png",   "breakers.svg",
      "staleness.png", "staleness.svg", "overview.png",   "overview.svg",
      "overload.csv",  "overload.png",  "overload.svg",   "breaker_transitions.csv"};
  static const std::set<std::string> kSweep = {"sweep.json",   "points",    "results.csv",
                                               "summary.json", "report.md", "recommended.json",
                                               "plots"};
  if (kind == "run") return kRun.count(name) > 0;
  if (kind == "sweep") return kSweep.count(name) > 0;
  if (kind == "fidelity") {
    return name == "report.md" || EndsWith(name, ".csv") || EndsWith(name, ".png") ||
           EndsWith(name, ".svg");
  }
  return false;
}

// The kind an earlier orchsim's folder (no marker) holds, or "".
std::string RecogniseUnmarked(const std::vector<std::string>& names) {
  auto has = [&](const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  const std::string guess = has("sweep.json") ? "sweep" : has("checks.csv") ? "fidelity" : "run";
  for (const std::string& name : names) {
    if (!IsNameOf(guess, name)) return "";
  }
  return guess;
}

std::string Article(const std::string& kind) { return kind == "run" ? "a run" : "a " + kind; }

// The command that writes a kind, for messages.
std::string Writer(const std::string& kind) {
  if (kind == "run") return "orchsim run";
  if (kind == "sweep") return "orchsim sweep or merge";
  return "orchsim " + kind;
}

// Reads what the lock file says about its holder (best effort).
std::string HolderOf(int fd) {
  char buffer[1024];
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return "";
  std::string text(buffer, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

// Best effort: what cannot be removed now is a leftover the next writer removes.
void RemoveTree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

}  // namespace

FolderContents InspectFolder(const std::string& dir) {
  FolderContents c;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (ec || !fs::exists(status)) {
    c.state = ec && ec != std::errc::no_such_file_or_directory ? FolderContents::State::kForeign
                                                               : FolderContents::State::kAbsent;
    if (c.state == FolderContents::State::kForeign) c.detail = ec.message();
    return c;
  }
  if (!fs::is_directory(status)) {
    c.state = FolderContents::State::kForeign;
    c.detail = "it is a file, not a folder";
    return c;
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) {
    c.state = FolderContents::State::kForeign;
    c.detail = "cannot list it: " + ec.message();
    return c;
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    c.state = FolderContents::State::kEmpty;
    return c;
  }
  if (std::find(names.begin(), names.end(), kFolderMarkerName) != names.end()) {
    const std::string path = (fs::path(dir) / kFolderMarkerName).string();
    const config::InputFile file = config::ReadInputFile(path, 1 << 16);
    const config::Json marker =
        file.ok() ? config::Json::parse(file.text, nullptr, false) : config::Json();
    if (!marker.is_object() || !marker.contains("kind") || !marker["kind"].is_string() ||
        !marker.contains("format") || !marker["format"].is_number_integer()) {
      c.state = FolderContents::State::kForeign;
      c.detail = std::string(kFolderMarkerName) + " is damaged" +
                 (file.ok() ? "" : ": " + config::DescribeInputFileProblem(file));
      return c;
    }
    c.state = FolderContents::State::kOrchsim;
    c.kind = marker["kind"].get<std::string>();
    c.format = marker["format"].get<int>();
    return c;
  }
  c.kind = RecogniseUnmarked(names);
  if (c.kind.empty()) {
    c.state = FolderContents::State::kForeign;
    for (const std::string& name : names) {
      if (!IsNameOf("run", name) && !IsNameOf("sweep", name) && !IsNameOf("fidelity", name)) {
        c.detail = "it holds \"" + name + "\"";
        break;
      }
    }
    if (c.detail.empty()) c.detail = "it mixes files of different orchsim results";
    return c;
  }
  c.state = FolderContents::State::kOrchsim;
  return c;
}

void RequireFolderKind(const std::string& dir, const std::string& kind,
                       const std::string& command) {
  const FolderContents c = InspectFolder(dir);
  switch (c.state) {
    case FolderContents::State::kAbsent:
    case FolderContents::State::kEmpty:
      return;
    case FolderContents::State::kForeign:
      throw OutputFolderError(dir + ": not an orchsim result folder (" + c.detail + "); " +
                              command +
                              " writes only into a new or empty folder or one it wrote before: "
                              "choose another --out");
    case FolderContents::State::kOrchsim:
      break;
  }
  if (c.kind != kind) {
    throw OutputFolderError(dir + ": holds " + Article(c.kind) + " result (written by " +
                            Writer(c.kind) + "), not " + Article(kind) + " result; " + command +
                            " will not replace it: choose another --out, or remove the folder "
                            "first");
  }
  if (c.format > kFolderFormat) {
    throw OutputFolderError(dir + ": written by a newer orchsim (folder format " +
                            std::to_string(c.format) + "; this one writes " +
                            std::to_string(kFolderFormat) + "); choose another --out");
  }
}

void WriteFolderMarker(const std::string& dir, const std::string& kind) {
  const config::Json marker = {{"kind", kind}, {"format", kFolderFormat}};
  WriteFileAtomically((fs::path(dir) / kFolderMarkerName).string(), marker.dump() + "\n");
}

std::string ResolveOutputPath(const std::string& dir) {
  if (dir.empty()) throw OutputFolderError("--out: expected a folder path, got an empty string");
  std::error_code ec;
  fs::path path = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) path = fs::absolute(dir).lexically_normal();
  std::string text = path.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  if (text == "/" || fs::path(text).filename().empty()) {
    throw OutputFolderError(dir + ": cannot write a result folder over the root folder");
  }
  return text;
}

FolderLock::FolderLock(const std::string& dir, const std::string& holder)
    : dir_(ResolveOutputPath(dir)) {
  const fs::path path(dir_);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) ThrowIoError("create", path.parent_path().string(), ec.value());
  lock_path_ = (path.parent_path() / ("." + path.filename().string() + kLockSuffix)).string();
  // The lock file is removed on release, so after locking it, check that the
  // path still names the file locked (else a releasing holder removed it
  // meanwhile: start over).
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) ThrowIoError("create the lock file", lock_path_, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      // The holder writes its line just after it locks: give a holder caught
      // in that window a moment (bounded; no real clock in engine/).
      std::string other = HolderOf(fd);
      for (int spin = 0; other.empty() && error == EWOULDBLOCK && spin < 2000; ++spin) {
        ::sched_yield();
        other = HolderOf(fd);
      }
      ::close(fd);
      if (error != EWOULDBLOCK) ThrowIoError("lock", lock_path_, error);
      throw OutputFolderError(dir + ": in use by another orchsim (" +
                              (other.empty() ? std::string("holder unknown") : other) +
                              "); wait for it to finish, or choose another --out");
    }
    struct stat locked {};
    struct stat named {};
    if (::fstat(fd, &locked) == 0 && ::stat(lock_path_.c_str(), &named) == 0 &&
        locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
      fd_ = fd;
      break;
    }
    ::close(fd);
  }
  if (fd_ < 0) throw IoError("cannot lock " + dir + ": the lock file keeps changing");
  const std::string text = holder + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) < 0) {
    // Only the second writer's message loses its detail.
  }
}

FolderLock::~FolderLock() {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while holding it: see the constructor
  ::close(fd_);
}

size_t FolderLock::RemoveLeftovers() const {
  size_t removed = 0;
  const fs::path path(dir_);
  const std::string sibling_prefix = "." + path.filename().string() + kTempInfix;
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& entry : fs::directory_iterator(path.parent_path(), ec)) {
    if (StartsWith(entry.path().filename().string(), sibling_prefix))
      doomed.push_back(entry.path());
  }
  for (const fs::path& folder : {path, path / "points"}) {
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      const std::string name = entry.path().filename().string();
      if (StartsWith(name, kTempInfix) || EndsWith(name, ".partial")) {
        doomed.push_back(entry.path());
      }
    }
  }
  for (const fs::path& p : doomed) {
    RemoveTree(p);
    ++removed;
  }
  return removed;
}

StagedFolder::StagedFolder(const std::string& dir, const std::string& kind,
                           const std::string& command, const std::string& holder)
    : lock_(dir, holder), kind_(kind) {
  RequireFolderKind(dir, kind, command);
  lock_.RemoveLeftovers();
  const fs::path path(lock_.dir());
  temp_ = (path.parent_path() /
           ("." + path.filename().string() + kTempInfix + std::to_string(::getpid())))
              .string();
  std::error_code ec;
  fs::remove_all(temp_, ec);
  fs::create_directory(temp_, ec);
  if (ec) ThrowIoError("create", temp_, ec.value());
}

StagedFolder::~StagedFolder() {
  if (!committed_) RemoveTree(temp_);
}

void StagedFolder::Commit() {
  WriteFolderMarker(temp_, kind_);
  const std::string& dir = lock_.dir();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (std::rename(temp_.c_str(), dir.c_str()) != 0) ThrowIoError("write", dir, errno);
    committed_ = true;
    return;
  }
  // One atomic exchange: the folder is the old result or the new one, never
  // missing. The old result is then at temp_, removed below.
  if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0) {
    const int error = errno;
    if (error != EINVAL && error != ENOSYS && error != ENOTSUP) ThrowIoError("replace", dir, error);
    // No RENAME_EXCHANGE on this file system: move the old result aside first.
    const std::string old = temp_ + "-old";
    RemoveTree(old);
    if (std::rename(dir.c_str(), old.c_str()) != 0) ThrowIoError("replace", dir, errno);
    if (std::rename(temp_.c_str(), dir.c_str()) != 0) {
      const int rename_error = errno;
      std::rename(old.c_str(), dir.c_str());
      ThrowIoError("replace", dir, rename_error);
    }
    committed_ = true;
    RemoveTree(old);
    return;
  }
  committed_ = true;
  RemoveTree(temp_);
}

}  // namespace orchsim::experiment
