// output_folder.h — result folders that never mix two results: one writer
// at a time, a marker saying what a folder holds, and whole-result swaps.
//
// Every folder orchsim writes (run, sweep, merge, fidelity) carries
// `orchsim-folder.json`, {"kind": "run", "format": 1}. Before writing, a
// command takes the folder's lock and checks what is there:
//   - absent or empty: fine;
//   - the same kind, this format or older: fine (a run replaces it, a sweep
//     resumes or refuses as sweep.h says);
//   - another kind, a newer format, or files orchsim did not write (a folder
//     without a marker is recognised as an earlier orchsim's result only when
//     every entry is a file name that kind writes): OutputFolderError, which
//     the CLI reports with exit status 2, before anything is written.
//
// Locking. The lock is an flock(2) on a lock file beside the folder
// (`.<name>.orchsim-lock` in the parent), held until the FolderLock is
// destroyed (or the process ends, also when killed). A second writer fails at
// once with OutputFolderError naming the holder (its pid and command line,
// which the lock file holds). The lock file is removed on release; a file left
// by a killed process is harmless and reused.
//
// Staging. StagedFolder writes a whole result into a temporary sibling
// (`.<name>.orchsim-tmp-<pid>`), then Commit() swaps it with the folder in one
// rename (renameat2 RENAME_EXCHANGE; two renames where the file system lacks
// it) and removes the old result. Readers see the old complete result or the
// new complete one; nothing of the old result (stale plots, CSVs) survives a
// rerun. Temporary siblings left by a killed process are removed by the next
// writer that takes the lock.
//
// Thread rules: none of these are thread-safe; one object per command.
#ifndef ORCHSIM_ENGINE_EXPERIMENT_OUTPUT_FOLDER_H_
#define ORCHSIM_ENGINE_EXPERIMENT_OUTPUT_FOLDER_H_

#include <stdexcept>
#include <string>

namespace orchsim::experiment {

// The folder is in use by another writer, holds another kind of result, a
// newer format, or files orchsim did not write. Bad input: exit status 2.
class OutputFolderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kFolderMarkerName = "orchsim-folder.json";
inline constexpr int kFolderFormat = 1;

// What a folder holds. kind: "run", "sweep" or "fidelity" (folders of the
// three kinds of commands that write folders; merge writes a sweep).
struct FolderContents {
  enum class State { kAbsent, kEmpty, kOrchsim, kForeign };
  State state = State::kAbsent;
  std::string kind;    // kOrchsim: from the marker, or recognised from the file names
  int format = 0;      // kOrchsim: from the marker; 0 for an earlier orchsim's folder
  std::string detail;  // kForeign: an entry orchsim did not write, or why the marker is unreadable
};

// Never throws for an unreadable folder: it is kForeign with the reason.
FolderContents InspectFolder(const std::string& dir);

// OK when `dir` is absent, empty, or holds `kind` in a format this binary
// reads; else throws OutputFolderError saying what it holds and what to do.
// `command` names the writer in the message ("orchsim run").
void RequireFolderKind(const std::string& dir, const std::string& kind, const std::string& command);

// Writes the marker of `kind` into `dir` (atomically). Throws IoError.
void WriteFolderMarker(const std::string& dir, const std::string& kind);

// The path used for locks and temporary siblings: absolute, lexically
// normal, symbolic links resolved (so two spellings of one folder share a
// lock). Throws OutputFolderError for "" and "/".
std::string ResolveOutputPath(const std::string& dir);

class FolderLock {
 public:
  // Locks `dir` (which need not exist; its parent is created). `holder`
  // describes this process for a second writer's message, e.g.
  // "orchsim run scenarios/nfl-2023.json --seed 1". Throws OutputFolderError
  // when another process holds the lock, IoError when the lock file cannot be
  // created.
  FolderLock(const std::string& dir, const std::string& holder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  const std::string& dir() const { return dir_; }  // resolved (ResolveOutputPath)
  const std::string& lock_path() const { return lock_path_; }

  // Removes temporary siblings of the folder (`.<name>.orchsim-tmp-*`) and
  // temporary files inside it (`.orchsim-tmp-*` folders, `*.partial` files,
  // also in `points/`) that a killed writer left. Only the lock holder may
  // call it. Returns how many entries it removed.
  size_t RemoveLeftovers() const;

 private:
  std::string dir_;
  std::string lock_path_;
  int fd_ = -1;
};

// A whole result written beside the folder and swapped in.
class StagedFolder {
 public:
  // Takes the lock, requires `kind` (RequireFolderKind), removes leftovers
  // and creates an empty temporary sibling. Throws OutputFolderError or IoError.
  StagedFolder(const std::string& dir, const std::string& kind, const std::string& command,
               const std::string& holder);
  // Removes the temporary sibling unless committed.
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  // Where to write the result.
  const std::string& path() const { return temp_; }
  const std::string& dir() const { return lock_.dir(); }
  const FolderLock& lock() const { return lock_; }

  // Writes the marker, swaps the temporary folder into place and removes the
  // old result. Throws IoError (the folder then keeps its old result).
  void Commit();

 private:
  FolderLock lock_;
  std::string kind_;
  std::string temp_;
  bool committed_ = false;
};

}  // namespace orchsim::experiment

#endif  // ORCHSIM_ENGINE_EXPERIMENT_OUTPUT_FOLDER_H_
