#include "tools/interrupts.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace orchsim::tools {
namespace {

// The state the watcher thread acts on. Process-wide by nature: a signal
// reaches the process, not an object.
struct State {
  std::recursive_mutex mutex;
  std::map<int, std::string> paths;
  int next_id = 1;
  pid_t child = 0;
  std::string message;
  std::string command = "orchsim";
};

std::atomic<bool> interrupting{false};

State& Shared() {
  static State* state = new State();  // never destroyed: the watcher may outlive main's statics
  return *state;
}

const int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

void RemoveAside(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path aside = path + ".interrupted";
  fs::rename(path, aside, ec);
  fs::remove_all(ec ? fs::path(path) : aside, ec);
}

[[noreturn]] void Interrupted(int signal_number) {
  interrupting.store(true);
  State& s = Shared();
  s.mutex.lock();  // waits for a Critical() section; never released
  if (s.child > 0) {
    ::kill(-s.child, SIGKILL);
    ::kill(s.child, SIGKILL);
    int status = 0;
    while (::waitpid(s.child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (const auto& [id, path] : s.paths) RemoveAside(path);
  std::string line = s.command + ": interrupted (" + ::strsignal(signal_number) + ")";
  if (!s.message.empty()) line += "; " + s.message;
  line += "\n";
  std::fflush(stdout);
  if (::write(STDERR_FILENO, line.data(), line.size()) < 0) {
    // Nothing left to report to.
  }
  // End by the signal itself, so a calling shell sees "killed by SIGINT".
  ::signal(signal_number, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signal_number);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(signal_number);
  ::_exit(128 + signal_number);
}

}  // namespace

void InstallInterruptHandling(const std::string& command) {
  Shared().command = command;
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
    sigaddset(&set, sig);
  }
  // Blocked here, inherited by every thread started later; only the watcher
  // takes them.
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (::sigwait(&set, &sig) != 0) {
    }
    Interrupted(sig);
  }).detach();
}

int AddTemporaryPath(const std::string& path) {
  State& s = Shared();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  const int id = s.next_id++;
  s.paths[id] = path;
  return id;
}

void ForgetTemporaryPath(int id) {
  State& s = Shared();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  s.paths.erase(id);
}

void SetInterruptibleChild(pid_t pid) {
  State& s = Shared();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  s.child = pid;
}

void SetInterruptMessage(const std::string& message) {
  State& s = Shared();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  s.message = message;
}

void Critical(const std::function<void()>& fn) {
  State& s = Shared();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  fn();
}

bool Interrupting() { return interrupting.load(); }

void WaitIfInterrupted() {
  if (!interrupting.load()) return;
  while (true) ::pause();  // the watcher ends the process
}

}  // namespace orchsim::tools
