#include "tools/plot_script.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "tools/interrupts.h"

#ifndef ORCHSIM_TOOLS_DIR
#define ORCHSIM_TOOLS_DIR "tools"
#endif

namespace orchsim::tools {
namespace {

enum class Output { kKeep, kToStderr, kDiscard };

// Runs `argv` (argv[0] is looked up on PATH) and returns its exit status, or
// -1 when it could not be started or died by a signal. The child leads its
// own process group (a terminal's Ctrl-C reaches orchsim, which stops the
// child: interrupts.h) and dies with orchsim (PR_SET_PDEATHSIG), so it never
// outlives a killed command and writes into its folder.
int RunChild(const std::vector<std::string>& argv, Output output) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // orchsim died before prctl
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
      if (output == Output::kDiscard) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
      }
    }
    if (output == Output::kToStderr) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from this side: no race with a kill of the group
  SetInterruptibleChild(pid);
  int status = 0;
  pid_t waited = 0;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  SetInterruptibleChild(0);
  if (waited != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace

std::optional<std::string> FindPlotPython() {
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (RunChild({candidate, "-c", "import matplotlib"}, Output::kDiscard) == 0) {
      return std::string(candidate);
    }
  }
  return std::nullopt;
}

std::string PlotScriptPath(const char* env_var, const std::string& file_name) {
  const char* env = std::getenv(env_var);
  if (env != nullptr && *env != '\0') return env;
  return (std::filesystem::path(ORCHSIM_TOOLS_DIR) / file_name).string();
}

std::string RunPlotScript(const std::string& script, const std::string& folder,
                          bool stdout_to_stderr, const std::vector<std::string>& extra_args) {
  const std::optional<std::string> python = FindPlotPython();
  if (!python) {
    return "no Python with matplotlib (tried /usr/bin/python3 and python3 on PATH; "
           "install python3-matplotlib)";
  }
  std::error_code ec;
  if (!std::filesystem::exists(script, ec)) return "plot script " + script + " not found";
  std::vector<std::string> argv = {*python, script, folder};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  if (RunChild(argv, stdout_to_stderr ? Output::kToStderr : Output::kKeep) != 0) {
    return "plot script " + script + " failed";
  }
  return "";
}

}  // namespace orchsim::tools
