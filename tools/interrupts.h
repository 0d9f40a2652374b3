// interrupts.h — what an interrupted orchsim command leaves: nothing
// half-written, no plotting child still writing, a non-zero exit.
//
// InstallInterruptHandling() (called by main before any thread starts)
// blocks SIGINT, SIGTERM and SIGHUP in every thread and waits for them on a
// thread of its own. On the first one it:
//   1. kills the registered child process group (the plotting script) and
//      reaps it, so nothing writes into a result folder afterwards;
//   2. removes every registered temporary path (renamed aside first, so a
//      writer still using the old name fails instead of recreating it);
//   3. runs nothing else of the command: prints the registered message and
//      ends the process by the same signal (exit status 128 + signal number
//      as a shell reports it: 130 for Ctrl-C, 143 for SIGTERM).
// Steps 1-2 wait for a running Critical() section, so a commit (a rename
// that swaps a result in) is never cut in half.
//
// SIGKILL cannot be handled: a killed command leaves its temporary folder,
// which the next writer of that folder removes (output_folder.h), and its
// plotting child dies with it (PR_SET_PDEATHSIG, plot_script.cc).
//
// A signal the parent set to "ignored" (e.g. a background job of a
// non-interactive shell) stays ignored.
//
// This is the process's one signal seam (DESIGN: signals live in tools/), so
// its state is process-wide. Every function is thread-safe.
#ifndef ORCHSIM_TOOLS_INTERRUPTS_H_
#define ORCHSIM_TOOLS_INTERRUPTS_H_

#include <sys/types.h>

#include <functional>
#include <string>

namespace orchsim::tools {

// `command` prefixes the message ("orchsim run").
void InstallInterruptHandling(const std::string& command);

// True once a signal is being handled.
bool Interrupting();
// When interrupted, never returns (the watcher ends the process by the
// signal); main calls it before exiting, so a command that failed because
// its temporary folder vanished does not exit with another status first.
void WaitIfInterrupted();

// A path (file or folder) removed when interrupted. Returns an id for
// ForgetTemporaryPath.
int AddTemporaryPath(const std::string& path);
void ForgetTemporaryPath(int id);

// The process group of a running child (its pid; the child made itself a
// group leader); 0 clears it.
void SetInterruptibleChild(pid_t pid);

// Printed (after "orchsim <command>: interrupted") when interrupted, e.g.
// "nothing written; results/x keeps its previous result".
void SetInterruptMessage(const std::string& message);

// Runs `fn` with interrupt handling held off until it returns.
void Critical(const std::function<void()>& fn);

// Registers a temporary path for the lifetime of the object.
class TemporaryPath {
 public:
  explicit TemporaryPath(const std::string& path) : id_(AddTemporaryPath(path)) {}
  ~TemporaryPath() { ForgetTemporaryPath(id_); }
  TemporaryPath(const TemporaryPath&) = delete;
  TemporaryPath& operator=(const TemporaryPath&) = delete;

 private:
  int id_;
};

}  // namespace orchsim::tools

#endif  // ORCHSIM_TOOLS_INTERRUPTS_H_
